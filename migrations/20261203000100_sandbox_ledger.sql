-- Portable SQL only (SQLite and Postgres): BIGINT ms timestamps, TEXT ids, no BOOLEAN.

-- The built-in sandboxes' order book, kept like a real gateway keeps it: a payment made in
-- the sandbox wallet is still there after a crash and on every instance sharing this
-- database, so the active query finds it. Written by `src/store/sandbox_ledger.rs`; what
-- each operation does is decided in `src/sandbox/rules.rs`.

-- One merchant account per sandbox: the numbering of its transaction and refund ids, and
-- the balance available for refunds (NULL: unlimited; tests lower it). Every refund takes
-- this row's lock, so the balance is never spent twice.
CREATE TABLE sandbox_accounts (
    provider       TEXT PRIMARY KEY,
    seq            BIGINT NOT NULL,
    refund_balance BIGINT
);
INSERT INTO sandbox_accounts (provider, seq, refund_balance) VALUES
    ('alipay', 0, NULL), ('wechatpay', 0, NULL), ('stripe', 0, NULL);

CREATE TABLE sandbox_orders (
    provider     TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,   -- the merchant's order number
    trade_no     TEXT NOT NULL,   -- the gateway's transaction id
    code         TEXT NOT NULL,   -- the wallet pay code (Stripe: the Checkout Session id)
    currency     TEXT NOT NULL,
    amount       BIGINT NOT NULL, -- minor units
    subject      TEXT NOT NULL,
    notify_url   TEXT NOT NULL,   -- '' when the merchant gave none
    state        TEXT NOT NULL,   -- pending | paid | closed
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (provider, out_trade_no)
);
CREATE UNIQUE INDEX sandbox_orders_code ON sandbox_orders (code);
CREATE INDEX sandbox_orders_trade_no ON sandbox_orders (provider, trade_no);

-- Refunds in the order's currency; their sum never exceeds the order's amount (checked
-- while holding the order's row).
CREATE TABLE sandbox_refunds (
    provider      TEXT NOT NULL,
    out_trade_no  TEXT NOT NULL,
    out_refund_no TEXT NOT NULL,  -- the merchant's refund number (idempotency key)
    refund_id     TEXT NOT NULL,  -- the gateway's refund id
    amount        BIGINT NOT NULL,
    seq           BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (provider, out_trade_no, out_refund_no),
    FOREIGN KEY (provider, out_trade_no) REFERENCES sandbox_orders (provider, out_trade_no)
);
CREATE UNIQUE INDEX sandbox_refunds_id ON sandbox_refunds (provider, refund_id);
CREATE INDEX sandbox_refunds_no ON sandbox_refunds (provider, out_refund_no);

-- "Paid" notifications the sandbox owes the merchant, queued in the transaction that
-- records the payment. A worker claims a due row by moving next_at to the end of a lease
-- (on Postgres with FOR UPDATE SKIP LOCKED, so each row goes to one instance), sends it,
-- and marks it acknowledged or schedules the next try on the provider's retry schedule.
-- The body is built (and signed, with a fresh timestamp) at each attempt, as the gateways
-- do; nothing signed is stored here.
CREATE TABLE sandbox_deliveries (
    id           TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    out_trade_no TEXT NOT NULL,
    status       TEXT NOT NULL,   -- pending | acknowledged | given_up | undeliverable
    attempts     BIGINT NOT NULL,
    next_at      BIGINT NOT NULL, -- due then; while claimed, the end of the claim's lease
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    last_error   TEXT
);
CREATE INDEX sandbox_deliveries_due ON sandbox_deliveries (status, next_at);
CREATE INDEX sandbox_deliveries_trade ON sandbox_deliveries (provider, out_trade_no);

-- The Stripe sandbox's idempotency keys: the first successful answer to a POST, replayed
-- for the same key and parameters (Stripe keeps keys for 24 hours), also after a restart
-- and on another instance. The request is the form body (never the API key: that is a
-- header).
CREATE TABLE sandbox_idempotency (
    scope      TEXT PRIMARY KEY, -- "<path> <Idempotency-Key>"
    request    TEXT NOT NULL,
    status     BIGINT NOT NULL,
    response   TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
