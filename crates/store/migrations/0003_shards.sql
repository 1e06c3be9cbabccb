-- rehearse store, schema version 3: shards of one run (#12 §5). Every shard of a sharded
-- run (`--shard K/N` with one `--run-id`) writes its scenarios, steps, attempts and checks
-- under the shared run id, their indices offset by (K-1) * 1,000,000 so shards never
-- collide, and one row here; the `runs` row is then recomputed over the shards recorded
-- so far (earliest start, latest end, worst verdict and exit code).
CREATE TABLE run_shards (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    shard BIGINT NOT NULL,
    total BIGINT NOT NULL,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    exit_code BIGINT NOT NULL,
    interrupted BIGINT NOT NULL,
    scenarios BIGINT NOT NULL,
    PRIMARY KEY (run_id, shard)
);
