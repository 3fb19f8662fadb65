-- organizations: one row per organization (tenant = org_id).
CREATE TABLE organizations (
  org_id         TEXT PRIMARY KEY,         -- "org-<32 hex>", also the tenant id
  slug           TEXT NOT NULL UNIQUE,
  name           TEXT NOT NULL,
  owner_user_id  TEXT NOT NULL,
  created_at     INTEGER NOT NULL,         -- microseconds since the epoch (UTC)
  updated_at     INTEGER NOT NULL,
  version        INTEGER NOT NULL,         -- stream version of the last change
  position       INTEGER NOT NULL
) WITHOUT ROWID;
