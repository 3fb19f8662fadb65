// The "usage" projection (schemas/views/usage.sql): per tenant, metric and
// calendar month, how many events, their payload bytes and how many distinct
// values. Metrics: "events" (distinct actors) and one per event type
// (distinct streams).
//
// It gathers a batch's counts in memory and writes them at the batch's end
// (Projection::flush): one upsert per meter and one insert per distinct
// value, rather than four statements per event. The rows come out exactly as
// if every event were written on its own.
#pragma once

#include <memory>

#include "projections/projection.h"

namespace causeway {

// A fresh instance of the "usage" projection (listed by make_projections()).
std::unique_ptr<Projection> usage_projection();

}  // namespace causeway
