-- The overview's figures, rolled up by hour as orders and refunds change (see
-- src/store/order_stats.rs). The overview sums at most a few thousand of these rows
-- instead of scanning a month of orders. `slot` spreads concurrent writers of the same
-- hour over several rows (Postgres row locks); readers sum over it. Money sums are kept
-- as the two halves of src/store/stats.rs `money_sum` (amount / 2^32 and amount % 2^32),
-- so no increment can overflow and fail a payment. Filled from existing orders by
-- `Store::migrate` (the rebuild), so this file holds no query of its own.
CREATE TABLE order_stats (
    hour            BIGINT NOT NULL,
    channel         TEXT NOT NULL,
    currency        TEXT NOT NULL,
    creator         TEXT NOT NULL,
    slot            BIGINT NOT NULL,
    created         BIGINT NOT NULL DEFAULT 0,
    created_paid    BIGINT NOT NULL DEFAULT 0,
    created_pending BIGINT NOT NULL DEFAULT 0,
    paid            BIGINT NOT NULL DEFAULT 0,
    volume_hi       BIGINT NOT NULL DEFAULT 0,
    volume_lo       BIGINT NOT NULL DEFAULT 0,
    refund_count    BIGINT NOT NULL DEFAULT 0,
    refunded_hi     BIGINT NOT NULL DEFAULT 0,
    refunded_lo     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, channel, currency, creator, slot)
);
