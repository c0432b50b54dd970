-- 付款码 (barcode) payments. Portable SQL (SQLite and Postgres).
-- How an order is paid: `qr` (the customer scans our code) or `code` (the cashier scans the
-- customer's payment code). A `code` order that stays undecided is cancelled at the
-- provider (alipay.trade.cancel, WeChat reverse) when it expires, never merely closed.
ALTER TABLE orders ADD COLUMN pay_method TEXT NOT NULL DEFAULT 'qr'
    CHECK (pay_method IN ('qr', 'code'));

-- The sandbox wallets' payment codes: each single use, with what the wallet was set to do
-- when it is charged (`pay` at once, ask for a `password`, or `decline`), and the order it
-- was charged for (the wallet page then asks the customer for the password).
CREATE TABLE sandbox_pay_codes (
    code         TEXT PRIMARY KEY,
    provider     TEXT NOT NULL,
    behaviour    TEXT NOT NULL CHECK (behaviour IN ('pay', 'password', 'decline')),
    created_at   BIGINT NOT NULL,
    used_at      BIGINT,
    out_trade_no TEXT
);
