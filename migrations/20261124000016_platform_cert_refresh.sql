-- WeChat Pay platform certificates are downloaded per channel every 12 hours (and when
-- due at start). One row per channel that downloads them: `next_at` is when the next
-- download is due. An instance claims a channel with one compare-and-set UPDATE that
-- moves `next_at` past a lease (`… WHERE next_at <= now`), so with several instances on
-- one database each due download happens once; an instance that dies mid-download only
-- delays it by the lease. Portable SQL (SQLite and Postgres): BIGINT ms, TEXT ids.
CREATE TABLE platform_cert_refresh (
    channel_id   TEXT PRIMARY KEY,
    next_at      BIGINT NOT NULL,
    -- The last download attempt and the last successful one (ms), and the outcome code
    -- of the last attempt (`ok`, `bad_apiv3_key`, `unreachable`, …).
    attempted_at BIGINT,
    succeeded_at BIGINT,
    outcome      TEXT
);
