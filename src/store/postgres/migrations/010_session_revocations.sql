-- Web UI sessions ended by signing out before their cookie expires (src/ui/auth/revocations.ts). The cookie is
-- signed, not stored, so every server of a deployment must refuse it until it would have expired; a row goes
-- once that time has passed.
CREATE TABLE session_revocations (
  id    TEXT PRIMARY KEY,
  until BIGINT NOT NULL
);
CREATE INDEX session_revocations_by_until ON session_revocations (until);
