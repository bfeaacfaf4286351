-- Readings of instances, taken by `faas top` (and the autoscale watcher).
CREATE TABLE usage_samples (
    time        INTEGER NOT NULL,
    instance    TEXT NOT NULL,
    function    TEXT NOT NULL,
    cpu_pct     REAL NOT NULL,
    mem_used    INTEGER NOT NULL,
    mem_total   INTEGER NOT NULL,
    disk_used   INTEGER NOT NULL,
    disk_total  INTEGER NOT NULL,
    load        REAL NOT NULL,
    in_flight   INTEGER NOT NULL
);
CREATE INDEX usage_samples_instance ON usage_samples(instance, time);
CREATE INDEX usage_samples_time ON usage_samples(time);
