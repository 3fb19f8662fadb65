-- The workflow views (projection "workflows", projections/views/workflow_views.cpp),
-- from the workflow.* and run.* events (docs/workflows.md, "Events"). Tenant:
-- org_id. Sealed run data (input, step outputs, event payloads) is never here:
-- the run API serves it.

-- workflows: one row per workflow, its status and latest published version.
CREATE TABLE workflows (
  workflow_id           TEXT PRIMARY KEY,
  org_id                TEXT NOT NULL,
  name                  TEXT NOT NULL,     -- the draft's current name
  status                TEXT NOT NULL,     -- draft | published | archived
  latest_version        INTEGER,           -- NULL before the first publish
  draft_hash            TEXT NOT NULL,     -- content hash of the editable draft
  public                INTEGER NOT NULL,  -- 0 or 1: other organizations may fork it
  forked_from_workflow  TEXT,              -- NULL unless forked
  forked_from_version   INTEGER,           -- NULL unless forked
  template              TEXT,              -- template name, NULL unless made from one
  created_at            INTEGER NOT NULL,  -- microseconds since the epoch (UTC)
  updated_at            INTEGER NOT NULL,
  position              INTEGER NOT NULL   -- log position of the last change
) WITHOUT ROWID;
CREATE INDEX workflows_by_org ON workflows (org_id, created_at);

-- workflow_versions: one row per published (immutable) version.
CREATE TABLE workflow_versions (
  workflow_id   TEXT NOT NULL,
  version       INTEGER NOT NULL,          -- 1, 2, ...
  org_id        TEXT NOT NULL,
  hash          TEXT NOT NULL,             -- content hash of the frozen definition
  published_at  INTEGER NOT NULL,
  published_by  TEXT NOT NULL,             -- actor id
  position      INTEGER NOT NULL,
  PRIMARY KEY (workflow_id, version)
) WITHOUT ROWID;
CREATE INDEX workflow_versions_by_org ON workflow_versions (org_id, published_at);

-- workflow_runs: one row per run, its status and counters.
CREATE TABLE workflow_runs (
  run_id            TEXT PRIMARY KEY,
  org_id            TEXT NOT NULL,
  workflow_id       TEXT NOT NULL,
  version           INTEGER NOT NULL,      -- the pinned version
  hash              TEXT NOT NULL,         -- its content hash
  status            TEXT NOT NULL,         -- running | waiting | completed | failed | cancelled
  stuck             INTEGER NOT NULL,      -- 1 after run.marked_stuck until the next progress
  current_node      TEXT,                  -- node of the latest step, timer or wait; NULL at start
  trigger_kind      TEXT NOT NULL,         -- manual | event | schedule ('' when unknown)
  started_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL,      -- time of the last run event
  ended_at          INTEGER,               -- NULL until completed, failed or cancelled
  last_progress_at  INTEGER NOT NULL,      -- time of the last run event but run.marked_stuck
  steps             INTEGER NOT NULL,      -- run.step_* events
  attempts_failed   INTEGER NOT NULL,      -- run.step_failed events
  error_class       TEXT,                  -- from run.failed, else NULL
  error             TEXT,
  position          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX workflow_runs_by_org ON workflow_runs (org_id, started_at);
CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow_id, started_at);

-- workflow_steps: each run's timeline, one row per run event.
CREATE TABLE workflow_steps (
  partition    INTEGER NOT NULL,           -- of the run event (its run's, its organization's)
  position     INTEGER NOT NULL,           -- its offset in that partition
  run_id       TEXT NOT NULL,
  org_id       TEXT NOT NULL,
  node         TEXT,                       -- NULL for run-level events
  visit        INTEGER,                    -- NULL when the event has none
  attempt      INTEGER,
  event        TEXT NOT NULL,              -- the event type without "run.", e.g. "step_failed"
  at           INTEGER NOT NULL,
  error_class  TEXT,                       -- step_failed and failed only
  error        TEXT,
  due_at       INTEGER,                    -- retry_scheduled and timer_set only
  PRIMARY KEY (partition, position)
) WITHOUT ROWID;
CREATE INDEX workflow_steps_by_run ON workflow_steps (run_id, position);
CREATE INDEX workflow_steps_by_org ON workflow_steps (org_id, position);
