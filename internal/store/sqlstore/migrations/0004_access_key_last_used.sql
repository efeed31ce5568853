-- When a request signed with the key was last verified, in Unix
-- nanoseconds; 0 for never. The runner applies each version once, in a
-- transaction with its record, so a plain ADD COLUMN is safe on both
-- engines (SQLite has no ADD COLUMN IF NOT EXISTS and needs none here).
-- Written at most once a minute per key (internal/auth), never per request.
ALTER TABLE access_keys ADD COLUMN last_used BIGINT NOT NULL DEFAULT 0;
