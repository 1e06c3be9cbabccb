-- rehearse store, schema version 1: runs, their scenarios, steps, attempts and pre-flight
-- checks. One file for SQLite and PostgreSQL: TEXT and BIGINT only, times as RFC 3339 text
-- in UTC (sortable as text), booleans as 0/1. Everything written here comes from a
-- RunResult, which the runner has already masked: no secret reaches this file's tables.
CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    environment TEXT NOT NULL,
    rehearse_version TEXT NOT NULL,
    deployed_version TEXT,
    bank_api_version TEXT,
    git_commit TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    verdict TEXT NOT NULL,
    exit_code BIGINT NOT NULL,
    interrupted BIGINT NOT NULL
);
CREATE INDEX runs_by_environment ON runs (environment, started_at);

CREATE TABLE scenarios (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    file_hash TEXT,
    owner TEXT,
    status TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    flaky BIGINT NOT NULL,
    retries BIGINT NOT NULL,
    failure TEXT,
    PRIMARY KEY (run_id, idx)
);
CREATE INDEX scenarios_by_path ON scenarios (path);

CREATE TABLE steps (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    scenario_idx BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    phase TEXT NOT NULL,
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    status TEXT NOT NULL,
    offset_ms BIGINT,
    duration_ms BIGINT NOT NULL,
    failure TEXT,
    PRIMARY KEY (run_id, scenario_idx, idx)
);

CREATE TABLE attempts (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    scenario_idx BIGINT NOT NULL,
    step_idx BIGINT NOT NULL,
    number BIGINT NOT NULL,
    method TEXT NOT NULL,
    url TEXT NOT NULL,
    status_code BIGINT,
    offset_ms BIGINT,
    duration_ms BIGINT NOT NULL,
    error TEXT,
    request_excerpt TEXT,
    response_excerpt TEXT,
    PRIMARY KEY (run_id, scenario_idx, step_idx, number)
);

CREATE TABLE checks (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    owner TEXT,
    status TEXT NOT NULL,
    evidence TEXT NOT NULL,
    duration_ms BIGINT NOT NULL,
    location TEXT,
    PRIMARY KEY (run_id, idx)
);
