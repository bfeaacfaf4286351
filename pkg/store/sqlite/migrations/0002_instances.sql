-- Instances are numbered per function and know their process.
ALTER TABLE instances ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN pid_start INTEGER NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN token TEXT NOT NULL DEFAULT '';
-- Jobs in flight per instance, for placing a job on a free slot.
CREATE INDEX jobs_instance_running ON jobs(instance) WHERE status = 'running';
