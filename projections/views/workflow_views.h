// The workflow views: one projection, "workflows" (schemas/views/workflows.sql),
// from the workflow.* and run.* events (docs/workflows.md, "Events"). Tables,
// column by column: docs/views.md.
//
//   workflows          one row per workflow: draft | published | archived
//   workflow_versions  one row per published version
//   workflow_runs      one row per run: running | waiting | completed | failed | cancelled
//   workflow_steps     one row per run event: the run's timeline
//
// Every row carries org_id (the tenant). Sealed fields (input, output, payload)
// are never projected. Bump the version in workflow_views.cpp when a rule or
// the SQL changes.
#pragma once

#include <memory>

#include "projections/projection.h"

namespace causeway {

// A fresh instance of the "workflows" projection (listed by make_projections()).
std::unique_ptr<Projection> workflows_projection();

}  // namespace causeway
