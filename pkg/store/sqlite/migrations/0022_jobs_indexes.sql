-- Every `faas jobs` filter reads an index in the listing's order (newest
-- first, ties by id), so that a page of the newest jobs costs as much with
-- a million jobs as with a hundred thousand: the default listing, --status,
-- --function, --trigger, and an owner's (faas serve). Retention finds the
-- oldest jobs by jobs_recent. These replace indexes without the id (and
-- the month's index of the bill before it read usage_daily).
DROP INDEX IF EXISTS jobs_month;
DROP INDEX IF EXISTS jobs_owner_month;
DROP INDEX IF EXISTS jobs_function_recent;
DROP INDEX IF EXISTS jobs_trigger;
CREATE INDEX IF NOT EXISTS jobs_recent ON jobs(queued_at, id);
CREATE INDEX IF NOT EXISTS jobs_owner_recent ON jobs(owner, queued_at, id);
CREATE INDEX IF NOT EXISTS jobs_function_recent ON jobs(function, queued_at, id);
CREATE INDEX IF NOT EXISTS jobs_trigger_recent ON jobs(trigger, queued_at, id);
CREATE INDEX IF NOT EXISTS jobs_status_recent ON jobs(status, queued_at, id);
