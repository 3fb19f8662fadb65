-- usage_meters: per tenant, metric and calendar month (UTC): how many events
-- (count), their payload bytes (sum) and how many distinct values (unique).
-- Metrics: "events" (unique = distinct actors) and one per event type
-- (unique = distinct streams). usage_uniques holds the distinct values.
CREATE TABLE usage_meters (
  tenant        TEXT NOT NULL,
  metric        TEXT NOT NULL,
  month         TEXT NOT NULL,             -- "YYYY-MM"
  count         INTEGER NOT NULL,
  sum           INTEGER NOT NULL,
  unique_count  INTEGER NOT NULL,
  PRIMARY KEY (tenant, metric, month)
) WITHOUT ROWID;
CREATE TABLE usage_uniques (
  tenant  TEXT NOT NULL,
  metric  TEXT NOT NULL,
  month   TEXT NOT NULL,
  value   TEXT NOT NULL,
  PRIMARY KEY (tenant, metric, month, value)
) WITHOUT ROWID;
