-- memberships: who belongs to which organization, with which role
-- (owner, admin, member, analyst, compliance_officer).
CREATE TABLE memberships (
  org_id     TEXT NOT NULL,
  user_id    TEXT NOT NULL,
  role       TEXT NOT NULL,
  joined_at  INTEGER NOT NULL,             -- microseconds since the epoch (UTC)
  position   INTEGER NOT NULL,
  PRIMARY KEY (org_id, user_id)
) WITHOUT ROWID;
CREATE INDEX memberships_by_user ON memberships (user_id);
