-- Orders, refunds and each order's timeline. Portable SQL (SQLite and Postgres).
-- Amounts are integer minor units; timestamps BIGINT ms since the epoch.

CREATE TABLE orders (
    id                    TEXT PRIMARY KEY,
    out_trade_no          TEXT NOT NULL UNIQUE,
    channel               TEXT NOT NULL,
    amount_minor          BIGINT NOT NULL CHECK (amount_minor > 0),
    currency              TEXT NOT NULL,
    subject               TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'partially_refunded', 'refunded', 'closed')),
    provider_trade_no     TEXT,
    qr_code               TEXT,
    creator               TEXT NOT NULL,
    merchant_notify_url   TEXT,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    paid_at               BIGINT,
    closed_at             BIGINT,
    -- Succeeded refunds.
    refunded_minor        BIGINT NOT NULL DEFAULT 0,
    -- Pending + succeeded refunds: the bound that keeps refunds within the paid amount.
    refund_reserved_minor BIGINT NOT NULL DEFAULT 0,
    -- Bumped by every change; also the sequence number of the change's timeline event.
    version               BIGINT NOT NULL DEFAULT 0,
    CHECK (refunded_minor <= refund_reserved_minor AND refund_reserved_minor <= amount_minor)
);
CREATE INDEX orders_status_expires ON orders (status, expires_at);
CREATE INDEX orders_created ON orders (created_at, id);

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    out_refund_no      TEXT NOT NULL UNIQUE,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    amount_minor       BIGINT NOT NULL CHECK (amount_minor > 0),
    currency           TEXT NOT NULL,
    reason             TEXT NOT NULL DEFAULT '',
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_refund_id TEXT,
    failure_reason     TEXT,
    requested_by       TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE INDEX refunds_order ON refunds (order_id);

-- What happened to an order, in order: (order_id, seq) where seq is the order's version
-- after the change, so concurrent writers can never interleave or duplicate entries.
CREATE TABLE order_events (
    order_id   TEXT NOT NULL REFERENCES orders (id),
    seq        BIGINT NOT NULL,
    at         BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    cause_kind TEXT NOT NULL,
    cause_ref  TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (order_id, seq)
);
