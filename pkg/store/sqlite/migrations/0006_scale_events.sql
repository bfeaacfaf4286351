-- Every decision of the autoscale watcher, with why and how it went.
CREATE TABLE scale_events (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    time     INTEGER NOT NULL,
    function TEXT NOT NULL,
    instance TEXT NOT NULL DEFAULT '',
    kind     TEXT NOT NULL,
    reason   TEXT NOT NULL,
    outcome  TEXT NOT NULL
);
CREATE INDEX scale_events_function ON scale_events(function, time);
CREATE INDEX scale_events_time ON scale_events(time);
