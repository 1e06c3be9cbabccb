#!/usr/bin/env bash
# Does recording slow a run? (issue #12, "Speed": under 5 % apart). Figures in
# docs/BENCHMARKS.md, "The store".
#
# Usage: scripts/bench-store.sh [STEPS=1000] [SCENARIOS=1000] [RUNS=40]
#   env BIN=path/to/rehearse, TARGET_BIN=path/to/bench_target (default: release builds)
#
# Against the tiny local axum target of the runner's benchmark
# (crates/runner/examples/bench_target.rs), each pair interleaved (scripts/ab.py):
#   (a) one scenario of STEPS steps (POST /items, capture, GET /items/{id}, as
#       scripts/bench-runner.sh) with the default SQLite store and with --no-store;
#   (b) SCENARIOS scenario files of two steps each, --jobs 64, the same two ways.
# The store is a fresh SQLite file per command, growing over its runs as a real one does.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STEPS=${1:-1000}
SCENARIOS=${2:-1000}
RUNS=${3:-40}
command -v python3 >/dev/null || { echo "needs python3" >&2; exit 4; }
# BIN / TARGET_BIN: other builds (e.g. debug ones) instead of building release.
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p rehearse
  BIN=target/release/rehearse
fi
if [ -z "${TARGET_BIN:-}" ]; then
  cargo build --release -q -p rehearse-runner --example bench_target
  TARGET_BIN=target/release/examples/bench_target
fi
BIN=$(realpath "$BIN")
WORK=$(mktemp -d)
"$TARGET_BIN" >"$WORK/target.out" &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -s "$WORK/target.out" ] && break; sleep 0.05; done
BASE=$(head -1 "$WORK/target.out")
[ -n "$BASE" ] || { echo "the bench target did not start" >&2; exit 4; }

mkdir -p "$WORK/steps/scenarios" "$WORK/many/scenarios"
for d in steps many; do
  printf 'vars:\n  base: "%s"\n' "$BASE" >"$WORK/$d/bench-env.yaml"
done
pair() { # pair N -> a create/read pair of steps numbered N
  cat <<YAML
  - name: create $1
    request: { method: POST, url: "{{ base }}/items", json: { name: widget, step: $1 } }
    expect: { status: 201 }
    capture: { id: "\$.id" }
  - name: read $1
    request: { url: "{{ base }}/items/{{ id }}" }
    expect: { status: 200, json: { "\$.status": ok } }
YAML
}
{
  echo "name: bench $STEPS steps"
  echo "steps:"
  for ((i = 1; i <= STEPS / 2; i++)); do pair "$i"; done
} >"$WORK/steps/scenarios/steps.yaml"
for ((i = 1; i <= SCENARIOS; i++)); do
  { printf 'name: scenario %d\nsteps:\n' "$i"; pair "$i"; } >"$(printf '%s/many/scenarios/s%05d.yaml' "$WORK" "$i")"
done

# Interleaved pairs (scripts/ab.py), not hyperfine's series one after the other: those
# drifted by ±10 % between series here, twice the difference looked for. Warm-up: three
# runs each, so that both stores hold runs before the timed ones.
for _ in 1 2 3; do
  (cd "$WORK/steps" && "$BIN" run -q --color never --env bench-env.yaml --store "$WORK/steps.db" >/dev/null) || true
  (cd "$WORK/many" && "$BIN" run -q --color never --jobs 64 --env bench-env.yaml --store "$WORK/many.db" >/dev/null) || true
done
cd "$WORK/steps"
python3 "$ROOT/scripts/ab.py" "$RUNS" "$STEPS steps, store" "$STEPS steps, --no-store" \
  -- "$BIN" run -q --color never --env bench-env.yaml --store "$WORK/steps.db" \
  -- "$BIN" run -q --color never --env bench-env.yaml --no-store
echo
cd "$WORK/many"
python3 "$ROOT/scripts/ab.py" "$RUNS" "$SCENARIOS scenarios, store" "$SCENARIOS scenarios, --no-store" \
  -- "$BIN" run -q --color never --jobs 64 --env bench-env.yaml --store "$WORK/many.db" \
  -- "$BIN" run -q --color never --jobs 64 --env bench-env.yaml --no-store
echo
echo "store sizes: $(du -h "$WORK/steps.db" | cut -f1) ($STEPS steps), $(du -h "$WORK/many.db" | cut -f1) ($SCENARIOS scenarios)"
