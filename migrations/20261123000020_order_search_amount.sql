-- Two order searches that walked the whole (created_at, id) index on a large table:
-- an exact amount or a narrow amount range ("the customer says they paid ¥123.45"), where
-- few rows match and a page may never fill; and the merchant API's list of one key's
-- orders. Each gets an index ending in (created_at, id), like the others in
-- 20261123000011: an exact amount is walked in order, a range reads its matches and sorts
-- one page.
CREATE INDEX orders_amount_created ON orders (amount_minor, created_at, id);
CREATE INDEX orders_api_key_created ON orders (api_key_id, created_at, id);
