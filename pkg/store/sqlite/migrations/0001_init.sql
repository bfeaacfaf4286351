-- Times are Unix milliseconds (UTC); durations are microseconds or ms as named.
CREATE TABLE functions (
    name            TEXT PRIMARY KEY,
    provider        TEXT NOT NULL,
    owner           TEXT NOT NULL DEFAULT '',
    current_version INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

CREATE TABLE versions (
    function   TEXT NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    filename   TEXT NOT NULL,
    code       BLOB NOT NULL,
    config     TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (function, version)
);

CREATE TABLE instances (
    id         TEXT PRIMARY KEY,
    function   TEXT NOT NULL,
    version    INTEGER NOT NULL,
    provider   TEXT NOT NULL,
    state      TEXT NOT NULL CHECK (state IN ('starting','ready','busy','draining','stopped','broken')),
    endpoint   TEXT NOT NULL DEFAULT '',
    pid        INTEGER,
    slots      INTEGER NOT NULL DEFAULT 1,
    cpus       INTEGER NOT NULL DEFAULT 1,
    memory_mb  INTEGER NOT NULL DEFAULT 0,
    disk_mb    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX instances_function ON instances(function, state);

-- Jobs outlive their function: a removed function's jobs still count in a
-- month's bill, so there is no foreign key to functions.
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    function          TEXT NOT NULL,
    version           INTEGER NOT NULL,
    owner             TEXT NOT NULL DEFAULT '',
    status            TEXT NOT NULL CHECK (status IN ('waiting','running','completed','failed','timeout','lost')),
    provider          TEXT NOT NULL DEFAULT '',
    instance          TEXT NOT NULL DEFAULT '',
    cold              INTEGER NOT NULL DEFAULT 0,
    init_ms           INTEGER NOT NULL DEFAULT 0,
    queued_at         INTEGER NOT NULL,
    started_at        INTEGER,
    ended_at          INTEGER,
    duration_us       INTEGER,
    billed_ms         INTEGER,
    memory_mb         INTEGER NOT NULL,
    peak_memory_bytes INTEGER,
    exit_code         INTEGER,
    error             TEXT NOT NULL DEFAULT '',
    payload           BLOB,
    result            BLOB,
    logs              BLOB,
    logs_truncated    INTEGER NOT NULL DEFAULT 0,
    runner_pid        INTEGER,
    runner_start      INTEGER
);
-- A month's bill: a range of start times, grouped by function (and owner).
CREATE INDEX jobs_month ON jobs(queued_at, function);
CREATE INDEX jobs_owner_month ON jobs(owner, queued_at);
-- A function's recent jobs and their logs.
CREATE INDEX jobs_function_recent ON jobs(function, queued_at DESC);
-- Jobs not yet ended, for reconciling and dispatching.
CREATE INDEX jobs_open ON jobs(status) WHERE status IN ('waiting','running');
