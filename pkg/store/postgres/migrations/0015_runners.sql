-- The processes that run jobs, each beating (seen_at) every every_ms while
-- it lives: a server on another host ends the running jobs of a runner
-- silent for three beats (its host died) as lost. Processes of one host,
-- not history: `faas db copy` leaves them out.
CREATE TABLE runners (
    host     text COLLATE "C" NOT NULL,
    pid      integer NOT NULL,
    start    bigint NOT NULL,
    seen_at  timestamptz NOT NULL,
    every_ms bigint NOT NULL,
    PRIMARY KEY (host, pid, start)
);
