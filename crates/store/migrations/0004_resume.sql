-- rehearse store, schema version 4: resumable runs (issue #12 §2). Self-contained like the
-- ledger: no foreign key to `runs` (the rows are written while the run's row is only its
-- start).
--
-- One row per run that can be resumed (store on, real clock, no embedded stack, a scenario
-- that waits): how to compile it again. `root` is the suite's root (absolute), `environment`
-- the `--env` as given (a name, or an absolute file path), `scenarios` a JSON array of
-- {path, rel, hash}: the scenario's path as the run named it, its path under `root`, and a
-- SHA-256 of its text. `state` is `running`, `suspended` or `finished`.
CREATE TABLE resumable (
    run_id TEXT PRIMARY KEY,
    root TEXT NOT NULL,
    environment TEXT NOT NULL,
    approvals TEXT,
    scenarios TEXT NOT NULL,
    state TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- A scenario's place, written at each of its step boundaries: a JSON checkpoint (next
-- step, poll attempts, its captures and vars that are neither the environment's nor
-- secret-derived, the masked results of the steps done, or its whole result once it
-- ended). Secrets and secret-derived captures are never in it.
CREATE TABLE checkpoints (
    run_id TEXT NOT NULL,
    scenario_path TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    checkpoint TEXT NOT NULL,
    PRIMARY KEY (run_id, scenario_path)
);
