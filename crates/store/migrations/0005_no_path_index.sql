-- rehearse store, schema version 5: no index of scenarios by path. No query reads it
-- (history reads a run's scenarios by run id, the primary key), and it cost every write:
-- a run's scenarios land all over it (each path next to its own earlier runs), so every
-- batch of 64 scenarios dirtied ~60 of its pages, most of what a 1,000-scenario run
-- wrote to the WAL (docs/BENCHMARKS.md, "The store").
DROP INDEX IF EXISTS scenarios_by_path;
