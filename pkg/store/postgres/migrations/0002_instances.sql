-- Instances are numbered per function and know their process.
ALTER TABLE instances ADD COLUMN seq integer NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN pid_start bigint NOT NULL DEFAULT 0;
ALTER TABLE instances ADD COLUMN token text NOT NULL DEFAULT '';
-- Jobs in flight per instance, for placing a job on a free slot.
CREATE INDEX jobs_instance_running ON jobs(instance) WHERE status = 'running';
