-- Portable SQL only: this file runs unchanged on SQLite and on Postgres.
-- No BOOLEAN columns (sqlx's Any driver cannot read SQLite booleans); timestamps are BIGINT milliseconds since the Unix epoch (UTC); ids are text (UUIDs).

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'support', 'merchant')),
    disabled_at   BIGINT,          -- NULL: active; otherwise when it was disabled
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- tower-sessions records, serialized as JSON text (portable, readable when debugging).
CREATE TABLE sessions (
    id         TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Failed-login bookkeeping, one row per throttled key ("user:<name>" or "ip:<addr>").
-- Kept in the database so several instances share it.
CREATE TABLE login_throttle (
    key          TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0
);

-- Who did what, when. Append-only.
CREATE TABLE audit_log (
    id     TEXT PRIMARY KEY,
    at     BIGINT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
