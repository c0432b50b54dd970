-- The text an order is found by in the orders search box (issue 18): its number and subject
-- lowercased, plus the `§` forms of short Chinese words (`order_query::search_text`),
-- written once when the order is created. The index over it differs by database and is
-- made after migrating (`store::order_search::text::ensure_index`): an FTS5 trigram table
-- on SQLite, a pg_trgm GIN index on Postgres. Rows from before this migration are filled
-- in after it (`backfill`), found through the partial index below.
ALTER TABLE orders ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
CREATE INDEX orders_search_text_missing ON orders (id) WHERE search_text = '';
