-- Two-factor sign-in (TOTP, RFC 6238) and recovery codes. Portable SQL (SQLite and Postgres).

-- One authenticator per user. `secret_sealed` is the TOTP secret sealed with the master key
-- (`vault::MasterKey`, associated data `user_totp/<user_id>`), never stored in the clear.
-- `enabled_at` NULL: enrolment started but not yet confirmed with a code.
-- `last_step`: the last 30-second step accepted, so a code is accepted once (RFC 6238 5.2).
CREATE TABLE user_totp (
    user_id       TEXT PRIMARY KEY REFERENCES users (id),
    secret_sealed TEXT NOT NULL,
    enabled_at    BIGINT,
    last_step     BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);

-- One-time recovery codes: argon2id hashes only; `used_at` set when one is spent.
CREATE TABLE user_recovery_codes (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    code_hash  TEXT NOT NULL,
    used_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX user_recovery_codes_user ON user_recovery_codes (user_id);

-- Admin-set policies (2FA required per role, refund approval thresholds), key → text.
CREATE TABLE security_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
