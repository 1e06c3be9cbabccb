#!/usr/bin/env bash
# Speed of the runner and of validation (issue 2, "Speed"; figures in docs/BENCHMARKS.md,
# "Runner"). Usage: scripts/bench-runner.sh [STEPS] [ROUNDS]
#
# A step is one HTTP exchange with its checks, the same in every contender:
#   odd steps  POST /items {json}  -> expect 201, capture $.id
#   even steps GET /items/{id}     -> expect 200, assert $.status == "ok"
# against a tiny local axum target (crates/runner/examples/bench_target.rs) on loopback.
#
# Contenders, in one run so they share the machine's state:
#   (a) a bare reqwest loop doing the same steps (examples/bench_reqwest.rs), best of ROUNDS,
#       in a spawned task (the baseline: the runner runs scenarios in tasks) and in block_on;
#   (b1) the runner in-process (examples/bench_runner.rs): `rehearse_runner::run` alone on
#        the compiled scenario, best of ROUNDS, with a task consuming the events live (as a
#        reporter does) and with the events left queued until the end;
#   (b2) the real binary, `rehearse run -q` of the generated scenario, wall time of the
#        process; also net of process start and loading, from a 10-step run of the same
#        shape ((t_STEPS - t_10) / (STEPS - 10));
#   (c) Hurl, if `hurl` is on PATH (it is not installed by this script);
#   (d) `rehearse validate` over 1,000 generated scenario files.
# Uses hyperfine when present (apt-get install -y hyperfine), else a `date +%s%N` loop.
set -euo pipefail
cd "$(dirname "$0")/.."
STEPS=${1:-1000}
ROUNDS=${2:-15}
FILES=${FILES:-1000}
(( STEPS % 2 == 0 && STEPS >= 20 )) || { echo "STEPS must be even and >= 20" >&2; exit 3; }

echo "building (release)…" >&2
cargo build --release -q -p rehearse
cargo build --release -q -p rehearse-runner --example bench_target --example bench_reqwest --example bench_runner
BIN=target/release/rehearse
EX=target/release/examples

WORK=$(mktemp -d)
"$EX/bench_target" >"$WORK/target.out" &
TARGET_PID=$!
trap 'kill $TARGET_PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 100); do [ -s "$WORK/target.out" ] && break; sleep 0.05; done
BASE=$(head -1 "$WORK/target.out")
[ -n "$BASE" ] || { echo "the bench target did not start" >&2; exit 4; }

# --- generated inputs ----------------------------------------------------------------
cat >"$WORK/bench-env.yaml" <<YAML
vars:
  base: "$BASE"
YAML
scenario() { # scenario STEPS FILE
  {
    echo "name: bench $1 steps"
    echo "steps:"
    for ((i = 1; i <= $1 / 2; i++)); do
      cat <<YAML
  - name: create $i
    request: { method: POST, url: "{{ base }}/items", json: { name: widget, step: $i } }
    expect: { status: 201 }
    capture: { id: "\$.id" }
  - name: read $i
    request: { url: "{{ base }}/items/{{ id }}" }
    expect: { status: 200, json: { "\$.status": ok } }
YAML
    done
  } >"$2"
}
scenario "$STEPS" "$WORK/steps-$STEPS.yaml"
scenario 10 "$WORK/steps-10.yaml"

hurl_file() { # hurl_file STEPS FILE
  for ((i = 1; i <= $1 / 2; i++)); do
    cat <<HURL
POST {{base}}/items
{"name": "widget", "step": $i}
HTTP 201
[Captures]
id: jsonpath "\$.id"

GET {{base}}/items/{{id}}
HTTP 200
[Asserts]
jsonpath "\$.status" == "ok"

HURL
  done >"$2"
}

# Validation corpus: FILES scenarios shaped like the shipped ones (headers, typed JSON body,
# matchers, captures, a poll with fail_if, cleanup).
mkdir -p "$WORK/corpus"
for ((f = 1; f <= FILES; f++)); do
  cat >"$WORK/corpus/flow-$f.yaml" <<YAML
name: flow $f creates, reads and settles an item
tags: [bench, group-$((f % 7))]
owner: team-$((f % 5))
vars:
  amount: $f
steps:
  - name: create
    request:
      method: POST
      url: "{{ base }}/items"
      headers: { Idempotency-Key: "{{ uuid() }}", X-Flow: "flow-$f" }
      json: { name: "item $f", amount: "{{ amount }}", tags: [a, b], nested: { level: 2 } }
    expect:
      status: 201
      json: { "\$.id": { type: number }, "\$.name": { matches: "^item \\\\d+\$" } }
    capture: { id: "\$.id" }
  - name: read
    request: { url: "{{ base }}/items/{{ id }}", query: { verbose: "true" } }
    expect:
      status: [200, 203]
      headers: { content-type: { contains: json } }
      json: { "\$.status": { one_of: [ok, pending] }, "\$.id": { gte: 1 } }
  - name: settles
    request: { url: "{{ base }}/items/{{ id }}" }
    poll: { every: 1s, timeout: 1m, backoff: 1.5, max_every: 10s, fail_if: { "\$.status": rejected } }
    expect: { status: 2xx, json: { "\$.status": ok }, duration_lt: 2s }
cleanup:
  - name: delete
    request: { method: DELETE, url: "{{ base }}/items/{{ id }}" }
    expect: { status: [200, 204, 404] }
YAML
done

# --- helpers ---------------------------------------------------------------------------
# mean_seconds NAME CMD… : prints the mean wall time of CMD in seconds.
mean_seconds() {
  local name=$1; shift
  if command -v hyperfine >/dev/null; then
    hyperfine -N --warmup 2 --runs 10 --export-json "$WORK/$name.json" "$*" >&2
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$WORK/$name.json"
  else
    "$@" >/dev/null
    local t0 t1 n=10
    t0=$(date +%s%N)
    for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
    t1=$(date +%s%N)
    awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "%.6f\n", (b - a) / n / 1e9 }'
  fi
}
rate() { awk -v s="$1" -v t="$2" 'BEGIN { printf "%.0f", s / t }'; }

# --- (a) bare reqwest, (b1) runner in-process -------------------------------------------
steps_per_s() { sed -E 's/.*= ([0-9]+) steps\/s/\1/'; }
BARE_OUT=$("$EX/bench_reqwest" "$BASE" "$STEPS" "$ROUNDS")
echo "$BARE_OUT"
BARE=$(grep 'spawned task' <<<"$BARE_OUT" | steps_per_s)
INPROC_LINE=$("$EX/bench_runner" "$WORK/bench-env.yaml" "$WORK/steps-$STEPS.yaml" "$ROUNDS")
echo "$INPROC_LINE (events consumed live)"
INPROC=$(steps_per_s <<<"$INPROC_LINE")
echo "$(BENCH_DRAIN=after "$EX/bench_runner" "$WORK/bench-env.yaml" "$WORK/steps-$STEPS.yaml" "$ROUNDS") (events drained after the run)"

# --- (b2) the binary ---------------------------------------------------------------------
T_FULL=$(mean_seconds run-full "$BIN" run -q --env "$WORK/bench-env.yaml" "$WORK/steps-$STEPS.yaml")
T_TEN=$(mean_seconds run-ten "$BIN" run -q --env "$WORK/bench-env.yaml" "$WORK/steps-10.yaml")
CLI_WALL=$(rate "$STEPS" "$T_FULL")
CLI_NET=$(awk -v s="$STEPS" -v a="$T_FULL" -v b="$T_TEN" 'BEGIN { printf "%.0f", (s - 10) / (a - b) }')
printf 'rehearse run (process): %d steps in %.1f ms = %d steps/s; 10 steps in %.1f ms; net of start-up = %d steps/s\n' \
  "$STEPS" "$(awk -v t="$T_FULL" 'BEGIN{print t*1e3}')" "$CLI_WALL" "$(awk -v t="$T_TEN" 'BEGIN{print t*1e3}')" "$CLI_NET"

# --- (c) Hurl -----------------------------------------------------------------------------
if command -v hurl >/dev/null; then
  hurl_file "$STEPS" "$WORK/steps.hurl"
  T_HURL=$(mean_seconds hurl hurl --variable "base=$BASE" "$WORK/steps.hurl")
  printf 'hurl %s: %d steps in %.1f ms = %d steps/s\n' "$(hurl --version | head -1 | awk '{print $2}')" \
    "$STEPS" "$(awk -v t="$T_HURL" 'BEGIN{print t*1e3}')" "$(rate "$STEPS" "$T_HURL")"
else
  echo "hurl: not on PATH, skipped"
fi

# --- (d) validate -------------------------------------------------------------------------
T_VALIDATE=$(mean_seconds validate "$BIN" validate --env "$WORK/bench-env.yaml" "$WORK/corpus")
printf 'rehearse validate: %d files in %.1f ms\n' "$FILES" "$(awk -v t="$T_VALIDATE" 'BEGIN{print t*1e3}')"

# --- verdict ------------------------------------------------------------------------------
awk -v b="$BARE" -v i="$INPROC" -v c="$CLI_NET" -v w="$CLI_WALL" -v v="$T_VALIDATE" 'BEGIN {
  printf "baseline: bare reqwest in a spawned task, %d steps/s\n", b
  printf "runner vs bare reqwest: in-process %.0f%%, binary net %.0f%%, binary wall %.0f%% (target >= 70%%)\n", 100*i/b, 100*c/b, 100*w/b
  printf "per-step overhead over the bare round trip: in-process %.0f us, binary net %.0f us (target < 60 us)\n", 1e6/i - 1e6/b, 1e6/c - 1e6/b
  printf "validate %d files: %.3f s (target < 0.5 s)\n", '"$FILES"', v
}'
