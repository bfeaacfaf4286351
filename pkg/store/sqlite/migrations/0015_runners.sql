-- The processes that run jobs, each beating (seen_at, Unix ms) every
-- every_ms while it lives: a server on another host ends the running jobs
-- of a runner silent for three beats (its host died) as lost. Processes of
-- one host, not history: `faas db copy` leaves them out.
CREATE TABLE runners (
    host     TEXT NOT NULL,
    pid      INTEGER NOT NULL,
    start    INTEGER NOT NULL,
    seen_at  INTEGER NOT NULL,
    every_ms INTEGER NOT NULL,
    PRIMARY KEY (host, pid, start)
);
