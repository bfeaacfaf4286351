-- The host (faas worker name) that ran a job's last attempt: '' for jobs
-- run before a cluster, or by a server without workers. A job handed to
-- another host's worker has runner_host 'worker:NAME' and no runner_pid, so
-- that no server judges it by a process id (the cluster's registry does).
ALTER TABLE jobs ADD COLUMN host TEXT NOT NULL DEFAULT '';
