-- Merchant API keys. Only a SHA-256 of each key is kept: keys are 256 random bits, so a
-- fast hash is enough (no dictionary to attack), and lookups stay one indexed query.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    key_hash     TEXT NOT NULL UNIQUE,
    -- The first characters of the key, to recognise it in lists ("pdk_AbCd…").
    prefix       TEXT NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
