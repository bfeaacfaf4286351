-- What each job costs, at the prices in force when it ended.
ALTER TABLE jobs ADD COLUMN request_pico bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN compute_pico bigint NOT NULL DEFAULT 0;

-- Settings: prices, free tier, budget (`faas config`).
CREATE TABLE config (
    key        text COLLATE "C" PRIMARY KEY,
    value      text NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Spend so far per month (local time of the faas that ran the job) and
-- owner, kept with each job's cost, so a budget check is one row read.
CREATE TABLE spend (
    month text COLLATE "C" NOT NULL,
    owner text COLLATE "C" NOT NULL,
    pico  bigint NOT NULL,
    PRIMARY KEY (month, owner)
);
