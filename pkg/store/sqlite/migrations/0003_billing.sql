-- What each job costs, at the prices in force when it ended.
ALTER TABLE jobs ADD COLUMN request_pico INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN compute_pico INTEGER NOT NULL DEFAULT 0;
-- A month's bill reads only this covering index: no table lookups.
DROP INDEX jobs_month;
CREATE INDEX jobs_bill ON jobs(queued_at, function, status, owner, duration_us, billed_ms, memory_mb, request_pico, compute_pico);

-- Settings: prices, free tier, budget (`faas config`).
CREATE TABLE config (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Spend so far per month (local time) and owner, kept with each job's
-- cost, so a budget check is one row read.
CREATE TABLE spend (
    month TEXT NOT NULL,
    owner TEXT NOT NULL,
    pico  INTEGER NOT NULL,
    PRIMARY KEY (month, owner)
);
