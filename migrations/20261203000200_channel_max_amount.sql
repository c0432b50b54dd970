-- Amount limits per order, set by an admin per channel and currency. A currency without a
-- row uses the built-in default (paydesk_core::limits::default_limit: ¥50,000.00 /
-- $10,000.00 …), so only overrides are stored and a fresh install needs no rows.
-- Portable SQL (SQLite and Postgres): TEXT ids, BIGINT minor units and ms timestamps.
CREATE TABLE channel_amount_limits (
    channel_id          TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    currency            TEXT NOT NULL,
    -- Largest amount of one order, in the currency's minor units.
    max_minor           BIGINT NOT NULL CHECK (max_minor > 0),
    -- Dashboard checkouts above this ask the cashier to confirm the amount first.
    confirm_above_minor BIGINT NOT NULL CHECK (confirm_above_minor > 0 AND confirm_above_minor <= max_minor),
    updated_at          BIGINT NOT NULL,
    updated_by          TEXT NOT NULL,
    PRIMARY KEY (channel_id, currency)
);
