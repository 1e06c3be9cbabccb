-- rehearse store, schema version 6: a scenario's steps and their attempts as one JSON
-- document in its row (`steps`; crates/store/src/doc.rs says what it holds), instead of a
-- row a step in `steps` and a row an attempt in `attempts`. Those rows were most of what
-- recording cost (a 1,000-step scenario: 2,001 rows and their primary-key indexes; now
-- one), docs/BENCHMARKS.md, "The store". Runs recorded before this version keep their rows
-- in `steps` and `attempts`, which are read for a scenario whose `steps` is NULL.
ALTER TABLE scenarios ADD COLUMN steps TEXT;
