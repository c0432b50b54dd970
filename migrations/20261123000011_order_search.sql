-- Indexes behind the dashboard's order search, CSV export and refunds list. Every search is
-- keyset-paged on (created_at, id), so each equality filter gets an index ending in
-- (created_at, id): the database walks it in order and stops after one page, however many
-- millions of rows match. `orders_created (created_at, id)` already serves the unfiltered
-- list and date ranges; out_trade_no is UNIQUE (indexed).
CREATE INDEX orders_creator_created ON orders (creator, created_at, id);
CREATE INDEX orders_status_created ON orders (status, created_at, id);
CREATE INDEX orders_channel_created ON orders (channel, created_at, id);
CREATE INDEX orders_provider_trade_no ON orders (provider_trade_no);
CREATE INDEX refunds_created ON refunds (created_at, id);
CREATE INDEX refunds_status_created ON refunds (status, created_at, id);
