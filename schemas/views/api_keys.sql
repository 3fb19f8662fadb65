-- api_keys: machine credentials per organization. The secret is never here:
-- the log holds only its hash, and the token is shown once at creation.
CREATE TABLE api_keys (
  key_id      TEXT PRIMARY KEY,            -- "key-<32 hex>"
  org_id      TEXT NOT NULL,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  revoked_at  INTEGER,                     -- NULL while active
  position    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX api_keys_by_org ON api_keys (org_id);
