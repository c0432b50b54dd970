-- Channels, the notify inbox, and what the order jobs need. Portable SQL (SQLite and
-- Postgres): BIGINT ms timestamps, TEXT ids, no BOOLEAN.

-- A channel is one provider account: its name is the `{channel}` of
-- `/notify/{provider}/{channel}` and what orders refer to. Non-secret settings (app id,
-- merchant id, gateway URL, certificates) are JSON in `settings`; private keys, APIv3 keys
-- and Stripe secrets are one JSON document in `secrets`, sealed under the master key and
-- bound to the row. Sandbox channels keep no secrets here: they use the sandbox's keys.
CREATE TABLE channels (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    provider    TEXT NOT NULL CHECK (provider IN ('alipay', 'wechatpay', 'stripe')),
    mode        TEXT NOT NULL CHECK (mode IN ('sandbox', 'live')),
    settings    TEXT NOT NULL DEFAULT '{}',
    secrets     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    disabled_at BIGINT
);

-- Every inbound provider notification, stored before anything else happens to it, so a
-- crash between receiving and applying loses nothing (pending rows are applied on restart).
-- `body` is the exact text received (providers send UTF-8 forms or JSON); the signature is
-- verified over it. `status`:
--   received  stored, not yet processed
--   applied   verified and it changed an order or refund
--   duplicate verified, the change had already happened (providers resend for ~25 h)
--   ignored   verified, nothing for us (e.g. WAIT_BUYER_PAY)
--   refused   verified, but it disagrees with our order (amount, currency, account) or
--             asks for an illegal transition: flagged, not applied
--   rejected  failed verification (bad signature, stale timestamp, unknown channel …)
CREATE TABLE notify_inbox (
    id           TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    channel      TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    headers      TEXT NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('received', 'applied', 'duplicate', 'ignored', 'refused', 'rejected')),
    reason       TEXT,
    event        TEXT,
    out_trade_no TEXT,
    processed_at BIGINT
);
CREATE INDEX notify_inbox_pending ON notify_inbox (status, received_at);
CREATE INDEX notify_inbox_received ON notify_inbox (received_at);
CREATE INDEX notify_inbox_trade ON notify_inbox (out_trade_no);

-- Stripe's Checkout Session id (cs_…): later calls need it.
ALTER TABLE orders ADD COLUMN provider_ref TEXT;
-- The merchant API key that created the order (its signing secret signs forwarded events).
ALTER TABLE orders ADD COLUMN api_key_id TEXT;
-- Active query (补单): when this pending order is next queried, and how often it was.
ALTER TABLE orders ADD COLUMN next_query_at BIGINT;
ALTER TABLE orders ADD COLUMN query_count BIGINT NOT NULL DEFAULT 0;
CREATE INDEX orders_next_query ON orders (status, next_query_at);

-- Pending refunds are synced by query too.
ALTER TABLE refunds ADD COLUMN next_query_at BIGINT;
CREATE INDEX refunds_pending ON refunds (status, next_query_at);

-- Merchant API idempotency: the first response to a key is replayed for 24 h.
CREATE TABLE idempotency_keys (
    api_key_id  TEXT NOT NULL,
    key         TEXT NOT NULL,
    request_sha TEXT NOT NULL,
    status      BIGINT NOT NULL,
    response    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
