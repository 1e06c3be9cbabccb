-- rehearse store, schema version 2: the ledger of test data (issue #12 §3) and the run row
-- written when a run starts. Self-contained: no foreign key to `runs` (an entry is written
-- before the run's row is complete, and outlives `runs` pruning), so later migrations can
-- change `runs` freely.
--
-- One row per resource a step created: a 2xx to a POST/PUT whose response id the step
-- captured. `captures` is a JSON object of the captured values the scenario's cleanup
-- steps use, only those that are not secret-derived (the runner knows which are); secrets
-- are re-read from the environment at cleanup time and never stored. `cleanup` is a JSON
-- array of the cleanup steps' indexes in the scenario file (`scenario_path`), which
-- `rehearse cleanup` compiles again from the file. `removed_at` is set when a cleanup step
-- succeeded for it.
CREATE TABLE ledger (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    environment TEXT NOT NULL,
    scenario_path TEXT NOT NULL,
    scenario_name TEXT NOT NULL,
    step_idx BIGINT NOT NULL,
    step_name TEXT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    captures TEXT NOT NULL,
    cleanup TEXT NOT NULL,
    removed_at TEXT,
    removed_by_run TEXT,
    cleanup_error TEXT
);
CREATE INDEX ledger_pending ON ledger (environment, removed_at, created_at);
