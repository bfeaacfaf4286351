-- The PostgreSQL dialect of pkg/store/sqlite/migrations, numbered alike.
-- Times are timestamptz at millisecond precision; durations are
-- microseconds or ms as named; money is bigint pico-dollars. Text that is
-- ordered or compared is COLLATE "C": byte order, as SQLite's.
CREATE TABLE functions (
    name            text COLLATE "C" PRIMARY KEY,
    provider        text NOT NULL,
    owner           text COLLATE "C" NOT NULL DEFAULT '',
    current_version integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE versions (
    function   text COLLATE "C" NOT NULL REFERENCES functions(name) ON DELETE CASCADE,
    version    integer NOT NULL,
    sha256     text NOT NULL,
    filename   text NOT NULL,
    code       bytea NOT NULL,
    config     text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (function, version)
);

CREATE TABLE instances (
    id         text COLLATE "C" PRIMARY KEY,
    function   text COLLATE "C" NOT NULL,
    version    integer NOT NULL,
    provider   text NOT NULL,
    state      text NOT NULL CHECK (state IN ('starting','ready','busy','draining','stopped','broken')),
    endpoint   text NOT NULL DEFAULT '',
    pid        integer,
    slots      integer NOT NULL DEFAULT 1,
    cpus       integer NOT NULL DEFAULT 1,
    memory_mb  bigint NOT NULL DEFAULT 0,
    disk_mb    bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX instances_function ON instances(function, state);

-- Jobs outlive their function: a removed function's jobs still count in a
-- month's bill, so there is no foreign key to functions.
CREATE TABLE jobs (
    id                text COLLATE "C" PRIMARY KEY,
    function          text COLLATE "C" NOT NULL,
    version           integer NOT NULL,
    owner             text COLLATE "C" NOT NULL DEFAULT '',
    status            text NOT NULL CHECK (status IN ('waiting','running','completed','failed','timeout','lost')),
    provider          text NOT NULL DEFAULT '',
    instance          text COLLATE "C" NOT NULL DEFAULT '',
    cold              boolean NOT NULL DEFAULT false,
    init_ms           bigint NOT NULL DEFAULT 0,
    queued_at         timestamptz NOT NULL,
    started_at        timestamptz,
    ended_at          timestamptz,
    duration_us       bigint,
    billed_ms         bigint,
    memory_mb         bigint NOT NULL,
    peak_memory_bytes bigint,
    exit_code         integer,
    error             text NOT NULL DEFAULT '',
    payload           bytea,
    result            bytea,
    logs              bytea,
    logs_truncated    boolean NOT NULL DEFAULT false,
    runner_pid        integer,
    runner_start      bigint
);
CREATE INDEX jobs_month ON jobs(queued_at, function);
CREATE INDEX jobs_owner_month ON jobs(owner, queued_at);
-- A function's recent jobs and their logs.
CREATE INDEX jobs_function_recent ON jobs(function, queued_at DESC);
-- Jobs not yet ended, for reconciling and dispatching.
CREATE INDEX jobs_open ON jobs(status) WHERE status IN ('waiting','running');
