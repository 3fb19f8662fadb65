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
  read_at         INTEGER,                 -- NULL while unread
  position        INTEGER NOT NULL         -- log position of the notification
) WITHOUT ROWID;
CREATE INDEX notifications_by_user ON notifications (user_id, position);
