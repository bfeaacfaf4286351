-- One row per tick of a function's schedule that some process claimed:
-- the key makes a tick fire once, however many servers and watchers share
-- the database. job_id is the job it queued ('' when none could be, and
-- error says why).
CREATE TABLE schedule_runs (
    function   text        NOT NULL,
    tick       timestamptz NOT NULL,
    job_id     text        NOT NULL DEFAULT '',
    error      text        NOT NULL DEFAULT '',
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (function, tick)
);
