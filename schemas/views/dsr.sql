-- data_subject_requests: GDPR Art. 15/17/20 requests and their legal deadline
-- (one month, extendable once). Global, operator only (no tenant scope).
-- Overdue: status = 'open' AND due_at < now.
CREATE TABLE data_subject_requests (
  request_id  TEXT PRIMARY KEY,            -- "dsr-<32 hex>"
  subject     TEXT NOT NULL,               -- "user-<32 hex>"
  kind        TEXT NOT NULL,               -- access | erasure | portability
  status      TEXT NOT NULL,               -- open | closed
  outcome     TEXT,                        -- completed | refused; NULL while open
  opened_at   INTEGER NOT NULL,            -- microseconds since the epoch (UTC)
  due_at      INTEGER NOT NULL,
  extended    INTEGER NOT NULL,            -- 0 or 1
  closed_at   INTEGER,                     -- NULL while open
  position    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX data_subject_requests_by_due ON data_subject_requests (status, due_at);
CREATE INDEX data_subject_requests_by_subject ON data_subject_requests (subject);
