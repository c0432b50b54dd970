-- Merchant notifications: order events forwarded to the merchant's own system (an order's
-- notify URL), signed with the signing secret of the API key that created the order.
-- Portable SQL only (SQLite and Postgres): BIGINT ms timestamps, TEXT ids, no BOOLEAN.

-- The key's signing secret, sealed under the master key (`v1:…`, bound to the row). NULL for
-- keys created before notifications existed: notifications for their orders fail with a
-- recorded error until the merchant uses a new key.
ALTER TABLE api_keys ADD COLUMN signing_secret TEXT;

-- One row per event to deliver. `body` is the exact JSON sent (and signed) on every attempt.
CREATE TABLE merchant_notifications (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id),
    out_trade_no    TEXT NOT NULL,
    api_key_id      TEXT NOT NULL REFERENCES api_keys (id),
    url             TEXT NOT NULL,
    event           TEXT NOT NULL,      -- order.paid, order.closed, refund.succeeded, refund.failed
    body            TEXT NOT NULL,
    -- pending: to be sent at next_attempt_at; delivered: a 2xx came back; failed: the retry
    -- schedule ran out (a person may resend it).
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    -- Attempts made so far, in total.
    attempts        BIGINT NOT NULL DEFAULT 0,
    -- `attempts` when the current retry schedule began (0, or the count at the last resend):
    -- the schedule position is attempts - schedule_base.
    schedule_base   BIGINT NOT NULL DEFAULT 0,
    -- When the next attempt is due. A worker that claims the row pushes it forward by its
    -- lease, so other workers skip the row while it is being sent.
    next_attempt_at BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT
);
-- What the workers poll: due pending rows, oldest due first.
CREATE INDEX merchant_notifications_due ON merchant_notifications (next_attempt_at) WHERE status = 'pending';
CREATE INDEX merchant_notifications_order ON merchant_notifications (order_id, created_at);
CREATE INDEX merchant_notifications_created ON merchant_notifications (created_at, id);

-- Every attempt, for the dashboard. No request headers (signatures) are stored.
CREATE TABLE merchant_notification_attempts (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES merchant_notifications (id),
    at              BIGINT NOT NULL,    -- when the attempt started
    status          BIGINT,             -- HTTP status; NULL: no answer (or not sent)
    latency_ms      BIGINT NOT NULL,
    error           TEXT,
    response        TEXT                -- the first 200 characters of the answer's body
);
CREATE INDEX merchant_notification_attempts_notification ON merchant_notification_attempts (notification_id, at);
