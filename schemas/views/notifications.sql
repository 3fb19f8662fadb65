-- notifications: the in-app notifications workflows send (the notify action),
-- one row each, for the user's inbox (GET /v1/me/notifications). The message
-- is in `payload` as the log holds it: sealed under the run's data subject, else the organization's key,
-- opened per request by the API. Not in the tenant catalogue: only the
-- recipient reads their rows, and only while a member of the organization.
CREATE TABLE notifications (
  notification_id TEXT PRIMARY KEY,        -- "<run id>.<node>.<visit>"
  org_id          TEXT NOT NULL,
  user_id         TEXT NOT NULL,           -- the recipient
  run_id          TEXT NOT NULL,
  payload         TEXT NOT NULL,           -- JSON: {notification_id, user_id, message}, maybe sealed
  created_at      INTEGER NOT NULL,        -- µs
  read_at         INTEGER,                 -- NULL while unread; else when first read
  partition       INTEGER NOT NULL,        -- log partition of the notification (its organization's)
  position        INTEGER NOT NULL         -- its offset in that partition
) WITHOUT ROWID;
CREATE INDEX notifications_by_user ON notifications (user_id, created_at);

-- The reading the inbox stream recorded, kept so that a notification applied
-- after the read that covers it (another partition, replayed later) is read
-- all the same: the rows do not depend on the order partitions are applied in.
CREATE TABLE notification_reads (          -- notification.read
  notification_id TEXT PRIMARY KEY,
  user_id         TEXT NOT NULL,
  at              INTEGER NOT NULL         -- µs, the first read
) WITHOUT ROWID;
CREATE TABLE notification_marks (          -- notification.all_read
  user_id         TEXT NOT NULL,
  partition       INTEGER NOT NULL,
  through         INTEGER NOT NULL,        -- every notification of the partition at or before it
  at              INTEGER NOT NULL,        -- µs
  PRIMARY KEY (user_id, partition, through)
) WITHOUT ROWID;
