-- Refund approval (two-person rule). Portable SQL (SQLite and Postgres).
-- A refund that needs approval is a `pending` refund (its amount reserved on the order, so
-- the refundable bound holds) with `approval = 'awaiting'`; it is not sent to the provider
-- until approved. NULL: no approval was needed.
ALTER TABLE refunds ADD COLUMN approval TEXT CHECK (approval IN ('awaiting', 'approved', 'rejected'));
ALTER TABLE refunds ADD COLUMN approval_by TEXT;
ALTER TABLE refunds ADD COLUMN approval_reason TEXT;
ALTER TABLE refunds ADD COLUMN approval_at BIGINT;
CREATE INDEX refunds_approval ON refunds (approval);

-- What each merchant API key may do with refunds: `allowed`, `approval` (they wait for an
-- admin) or `forbidden`.
ALTER TABLE api_keys ADD COLUMN refund_policy TEXT NOT NULL DEFAULT 'allowed'
    CHECK (refund_policy IN ('allowed', 'approval', 'forbidden'));
