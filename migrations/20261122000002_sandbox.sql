-- Portable SQL only (SQLite and Postgres): BIGINT ms timestamps, TEXT ids, no BOOLEAN.

-- Keys of the built-in provider sandboxes: one JSON document per provider, generated on
-- first start. One row per provider (not per key) so the keys that belong together — a
-- WeChat merchant key and its serial, say — are always written together, and two instances
-- starting at once cannot end up with a mix (the first INSERT wins, the other re-reads).
-- The document holds private keys; it never leaves the server.
CREATE TABLE sandbox_keys (
    provider   TEXT PRIMARY KEY,
    secrets    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Every attempt of every outbound provider call, for the logs view. URLs are masked before
-- they get here; headers and bodies (signatures, personal data) are never stored.
CREATE TABLE provider_calls (
    id            TEXT PRIMARY KEY,
    at            BIGINT NOT NULL,   -- when the attempt started
    provider      TEXT NOT NULL,
    channel       TEXT NOT NULL,
    operation     TEXT NOT NULL,
    method        TEXT NOT NULL,
    url           TEXT NOT NULL,
    status        BIGINT,            -- NULL: no HTTP answer (transport error)
    latency_ms    BIGINT NOT NULL,
    attempt       BIGINT NOT NULL,
    provider_code TEXT,
    error         TEXT,
    out_trade_no  TEXT               -- the order the call was about, when known
);
CREATE INDEX provider_calls_at ON provider_calls (at);
CREATE INDEX provider_calls_trade ON provider_calls (out_trade_no);
