-- audit_index: one row per event of the log, for finding events by tenant,
-- actor, action, target and subject. The event itself stays in the log.
CREATE TABLE audit_index (
  partition     INTEGER NOT NULL,          -- log partition of the event
  position      INTEGER NOT NULL,          -- its offset in that partition
  time          INTEGER NOT NULL,          -- recorded_at, microseconds since the epoch (UTC)
  tenant        TEXT NOT NULL,             -- organization id, '' for global streams
  actor         TEXT NOT NULL,
  impersonator  TEXT NOT NULL,             -- '' when none
  action        TEXT NOT NULL,             -- event type, e.g. "organization.renamed"
  target        TEXT NOT NULL,             -- stream id
  subject       TEXT NOT NULL,             -- first data subject, '' when none
  event_id      TEXT NOT NULL,
  PRIMARY KEY (partition, position)
) WITHOUT ROWID;
CREATE INDEX audit_by_tenant_time ON audit_index (tenant, time);
CREATE INDEX audit_by_subject ON audit_index (subject);
CREATE INDEX audit_by_actor ON audit_index (actor);
