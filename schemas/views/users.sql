-- users: one row per signed-up user. Global (users have no tenant); a tenant
-- sees the users who are members of it (see memberships).
-- email and display_name hold the sealed JSON value ({"$sealed":"v1",...}); the
-- API opens them with the subject's key and shows "[erased]" once it is gone.
CREATE TABLE users (
  user_id       TEXT PRIMARY KEY,          -- "user-<32 hex>"
  email         TEXT NOT NULL,             -- sealed, personal
  display_name  TEXT NOT NULL,             -- sealed, personal
  signed_up_at  INTEGER NOT NULL,          -- microseconds since the epoch (UTC)
  position      INTEGER NOT NULL           -- log position of the last change
) WITHOUT ROWID;
