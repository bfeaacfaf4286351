-- faas serve: who may call the API. Only a token's SHA-256 is kept; the
-- token's name is the owner of what it creates.
CREATE TABLE tokens (
    name       text COLLATE "C" PRIMARY KEY,
    hash       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

-- Async jobs: how often a failed job runs again, how many runs it had, and
-- its own timeout (0: the function's), kept for when it is dispatched.
ALTER TABLE jobs ADD COLUMN retries integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN attempts integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN timeout_ms bigint NOT NULL DEFAULT 0;
-- The queue, oldest first.
CREATE INDEX jobs_waiting ON jobs(queued_at, id) WHERE status = 'waiting';
-- An owner's functions (an owner's jobs use jobs_owner_month).
CREATE INDEX functions_owner ON functions(owner, name);
