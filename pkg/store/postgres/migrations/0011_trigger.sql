-- What started a job: 'cli', 'api', 'http', 'schedule' or 'on-failure';
-- '' for jobs from before it was kept.
ALTER TABLE jobs ADD COLUMN trigger text NOT NULL DEFAULT '';
CREATE INDEX jobs_trigger ON jobs(trigger, queued_at);
