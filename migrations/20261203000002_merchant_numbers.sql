-- The order or refund number a merchant system chose through its API key, when it chose
-- one. paydesk then stores and sends to the provider a number derived from the key and
-- that number (`payments::key_scoped_number`), so each key has a namespace of its own:
-- one key can neither learn nor take another's numbers. The API shows this column.
ALTER TABLE orders ADD COLUMN merchant_no TEXT;
ALTER TABLE refunds ADD COLUMN merchant_no TEXT;
