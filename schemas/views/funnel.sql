-- signup_funnel: one row per user with the time each funnel step was first
-- reached (NULL = not yet): signed up -> verified -> created an organization
-- -> first workflow -> first run -> paid (the first payment of an
-- organization the user owns). first_workflow_at and first_run_at stay NULL:
-- workflows and runs belong to organizations, not users, and their events do
-- not name the owner yet. referred_by is the user whose referral code the
-- signup gave: referral conversions are rows with referred_by and paid_at.
CREATE TABLE signup_funnel (
  user_id            TEXT PRIMARY KEY,
  signed_up_at       INTEGER NOT NULL,
  cohort_week        TEXT NOT NULL,        -- ISO week of signup, "2026-W47"
  verified_at        INTEGER,
  first_org_at       INTEGER,
  first_workflow_at  INTEGER,
  first_run_at       INTEGER,
  paid_at            INTEGER,
  referred_by        TEXT                  -- the referrer's user id, or NULL
) WITHOUT ROWID;
CREATE INDEX signup_funnel_by_referrer ON signup_funnel (referred_by);

-- Funnel steps applied before the sign-up they belong to: an organization's
-- creation or first payment is in the organization's partition, the sign-up in
-- the user's, and a replay may apply either first. The sign-up takes them over.
CREATE TABLE signup_funnel_early (
  user_id  TEXT NOT NULL,
  step     TEXT NOT NULL,                 -- 'first_org_at' or 'paid_at'
  at       INTEGER NOT NULL,              -- the earliest, µs
  PRIMARY KEY (user_id, step)
) WITHOUT ROWID;
