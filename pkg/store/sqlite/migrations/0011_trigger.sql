-- What started a job: 'cli' (a local faas invoke), 'api' (faas serve's
-- invoke API), 'http' (an HTTP function's route), 'schedule', or 'on-failure'
-- (another job's failure destination); '' for jobs from before it was kept.
ALTER TABLE jobs ADD COLUMN trigger TEXT NOT NULL DEFAULT '';
CREATE INDEX jobs_trigger ON jobs(trigger, queued_at);
