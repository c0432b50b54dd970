-- When an admin dismissed the overview's first-steps checklist (issue 18); NULL: shown.
ALTER TABLE users ADD COLUMN first_steps_dismissed_at BIGINT;
