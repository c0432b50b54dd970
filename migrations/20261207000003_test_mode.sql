-- Each user's test-mode switch (issue 18): 1 = the dashboard shows sandbox (test) data,
-- 0 = live data, NULL = not chosen yet (then test mode is on exactly while no live channel
-- is enabled: `paydesk_core::test_mode::is_on`).
ALTER TABLE users ADD COLUMN test_mode BIGINT;
