-- A month's bill reads a day-by-day roll-up kept with each job's cost, not
-- a million job rows: at most 31 rows per function and owner. The day is
-- text (YYYY-MM-DD) in the local time of the faas that ran the job, as
-- SQLite's; rows from before this migration take the session's time zone.
CREATE TABLE usage_daily (
    day          text COLLATE "C" NOT NULL,
    function     text COLLATE "C" NOT NULL,
    owner        text COLLATE "C" NOT NULL,
    invocations  bigint NOT NULL,
    errors       bigint NOT NULL,
    duration_us  bigint NOT NULL,
    billed_ms    bigint NOT NULL,
    mb_ms        bigint NOT NULL,
    request_pico bigint NOT NULL,
    compute_pico bigint NOT NULL,
    PRIMARY KEY (day, function, owner)
);
INSERT INTO usage_daily
    SELECT to_char(queued_at, 'YYYY-MM-DD'), function, owner, COUNT(*), COUNT(*) FILTER (WHERE status <> 'completed'),
           SUM(COALESCE(duration_us, 0)), SUM(COALESCE(billed_ms, 0)), SUM(memory_mb * COALESCE(billed_ms, 0)),
           SUM(request_pico), SUM(compute_pico)
    FROM jobs WHERE status IN ('completed', 'failed', 'timeout')
    GROUP BY 1, 2, 3;
