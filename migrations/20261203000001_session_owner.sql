-- Who a session belongs to and where it came from, so a user can see and end their
-- sessions and an admin can end all of a user's sessions. Copied out of the session's own
-- data when it is saved (`auth::session_store`); NULL for sessions nobody signed in to.
-- `handle` is a non-secret name for the session (a hash of its id): the id itself is a
-- bearer secret and is never shown.
ALTER TABLE sessions ADD COLUMN user_id TEXT;
ALTER TABLE sessions ADD COLUMN handle TEXT;
ALTER TABLE sessions ADD COLUMN signed_in_at BIGINT;
ALTER TABLE sessions ADD COLUMN last_seen BIGINT;
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN ip TEXT;
CREATE INDEX sessions_user ON sessions (user_id);
