-- The host of a running job's runner (proc.HostID): its pid is checked only
-- there, so that servers on several hosts sharing a database never mark
-- each other's running jobs lost. '' for jobs from before it was kept.
ALTER TABLE jobs ADD COLUMN runner_host TEXT NOT NULL DEFAULT '';
