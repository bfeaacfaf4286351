-- Readings of instances, taken by `faas top` (and the autoscale watcher).
CREATE TABLE usage_samples (
    time        timestamptz NOT NULL,
    instance    text COLLATE "C" NOT NULL,
    function    text COLLATE "C" NOT NULL,
    cpu_pct     double precision NOT NULL,
    mem_used    bigint NOT NULL,
    mem_total   bigint NOT NULL,
    disk_used   bigint NOT NULL,
    disk_total  bigint NOT NULL,
    load        double precision NOT NULL,
    in_flight   integer NOT NULL
);
CREATE INDEX usage_samples_instance ON usage_samples(instance, time);
CREATE INDEX usage_samples_time ON usage_samples(time);
