-- A month's bill reads a day-by-day roll-up kept with each job's cost, not
-- a million job rows: at most 31 rows per function and owner.
CREATE TABLE usage_daily (
    day          TEXT NOT NULL,    -- YYYY-MM-DD, local time of the job's queue time
    function     TEXT NOT NULL,
    owner        TEXT NOT NULL,
    invocations  INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    duration_us  INTEGER NOT NULL,
    billed_ms    INTEGER NOT NULL,
    mb_ms        INTEGER NOT NULL,
    request_pico INTEGER NOT NULL,
    compute_pico INTEGER NOT NULL,
    PRIMARY KEY (day, function, owner)
);
INSERT INTO usage_daily
    SELECT date(queued_at / 1000, 'unixepoch', 'localtime'), function, owner, COUNT(*), SUM(status != 'completed'),
           SUM(COALESCE(duration_us, 0)), SUM(COALESCE(billed_ms, 0)), SUM(memory_mb * COALESCE(billed_ms, 0)),
           SUM(request_pico), SUM(compute_pico)
    FROM jobs WHERE status IN ('completed', 'failed', 'timeout')
    GROUP BY 1, 2, 3;
-- The wide covering index is no longer needed for bills.
DROP INDEX jobs_bill;
CREATE INDEX jobs_month ON jobs(queued_at, function);
