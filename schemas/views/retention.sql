-- retention_policies: the retention policies in force (engine/aggregates/retention.h).
-- scope 'all' is the default for every tenant; a tenant's own row overrides it
-- for that category. Personal data of a category expires max_age_days after the
-- day it was recorded.
CREATE TABLE retention_policies (
  scope        TEXT NOT NULL,               -- 'all' or an organization id
  category     TEXT NOT NULL,               -- event type prefix, e.g. 'user'
  max_age_days INTEGER NOT NULL,
  reason       TEXT NOT NULL,
  set_by       TEXT NOT NULL,               -- actor id
  set_at       INTEGER NOT NULL,            -- microseconds since the epoch (UTC)
  position     INTEGER NOT NULL,
  PRIMARY KEY (scope, category)
) WITHOUT ROWID;

-- retention_enforcements: one row per expired bucket (one day of one tenant's
-- personal data of one category), in the order the sweeper destroyed them.
CREATE TABLE retention_enforcements (
  partition    INTEGER NOT NULL,            -- of the retention.enforced event
  position     INTEGER NOT NULL,            -- its offset in that partition
  scope        TEXT NOT NULL,               -- 'all' (no tenant) or an organization id
  category     TEXT NOT NULL,
  day          TEXT NOT NULL,               -- 'yyyy-mm-dd' (UTC) the data was recorded
  max_age_days INTEGER NOT NULL,
  policy       TEXT NOT NULL,               -- 'tenant' or 'default'
  enforced_at  INTEGER NOT NULL,
  PRIMARY KEY (partition, position)
) WITHOUT ROWID;
CREATE INDEX retention_enforcements_by_scope ON retention_enforcements (scope, day);
