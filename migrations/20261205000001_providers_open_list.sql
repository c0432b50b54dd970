-- Which providers exist is the code's provider list (src/provider_kind.rs), not a CHECK
-- constraint: adding a provider must not need a table rebuild. Rows naming a provider this
-- build does not know are refused when read ("unknown provider").
-- Portable SQL (SQLite and Postgres): SQLite cannot drop a constraint, so `channels` is
-- rebuilt; its one dependant, `channel_amount_limits` (ON DELETE CASCADE), is kept aside
-- first so dropping the old table cannot delete its rows.

CREATE TABLE channel_amount_limits_keep AS SELECT * FROM channel_amount_limits;
DROP TABLE channel_amount_limits;

CREATE TABLE channels_rebuilt (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    provider    TEXT NOT NULL,
    mode        TEXT NOT NULL CHECK (mode IN ('sandbox', 'live')),
    settings    TEXT NOT NULL DEFAULT '{}',
    secrets     TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    disabled_at BIGINT
);
INSERT INTO channels_rebuilt (id, name, provider, mode, settings, secrets, created_at, updated_at, disabled_at)
    SELECT id, name, provider, mode, settings, secrets, created_at, updated_at, disabled_at FROM channels;
DROP TABLE channels;
ALTER TABLE channels_rebuilt RENAME TO channels;

CREATE TABLE channel_amount_limits (
    channel_id          TEXT NOT NULL REFERENCES channels (id) ON DELETE CASCADE,
    currency            TEXT NOT NULL,
    max_minor           BIGINT NOT NULL CHECK (max_minor > 0),
    confirm_above_minor BIGINT NOT NULL CHECK (confirm_above_minor > 0 AND confirm_above_minor <= max_minor),
    updated_at          BIGINT NOT NULL,
    updated_by          TEXT NOT NULL,
    PRIMARY KEY (channel_id, currency)
);
INSERT INTO channel_amount_limits (channel_id, currency, max_minor, confirm_above_minor, updated_at, updated_by)
    SELECT channel_id, currency, max_minor, confirm_above_minor, updated_at, updated_by FROM channel_amount_limits_keep;
DROP TABLE channel_amount_limits_keep;

-- The WeChat Pay v2 sandbox's account (transaction and refund numbering, refund balance).
INSERT INTO sandbox_accounts (provider, seq, refund_balance) VALUES ('wechatpay_v2', 0, NULL);
