-- The last connection check of each channel (issue 18): "Test connection", or a checkout
-- the provider refused for a reason a check names (`channel::check::ConnectionCheck`:
-- ok, bad_key, product_not_enabled, clock_skew, unreachable, bad_signature, other).
-- A live channel whose last check is not `ok` is failing: marked, never pre-selected.
ALTER TABLE channels ADD COLUMN last_check TEXT;
ALTER TABLE channels ADD COLUMN last_check_at BIGINT;
-- Each user's last channel that took a checkout, pre-selected on the checkout form.
ALTER TABLE users ADD COLUMN last_channel TEXT;
