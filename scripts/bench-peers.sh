#!/usr/bin/env bash
# rehearse beside its peers, in the same runs (issue #10, section 5; figures in
# docs/BENCHMARKS.md, "Against the peers"). Needs the peers installed by the shared peers
# kit (/work/shared/peers: Hurl, the target server and its raw flow-client, WireMock
# standalone, wrk, hyperfine); this script only reuses them. Not part of the test suite.
#
# Usage: scripts/bench-peers.sh [runner|mock|all]        (default: all)
#   env BIN=path/to/rehearse      (default: builds target/release/rehearse)
#       BASE_BIN=path/to/rehearse (optional: an older build, measured beside it: A/B)
#       PEERS_DIR=/work/shared/peers  RUNS=30 (hyperfine)  DUR=10s REPS=3 WARM=5s
#       WARM_JAVA=15s (lib-wrk.sh)  PIN=1 (server on CPU 1, load on CPU 0; env.sh)
#       BANK_PORT=18085  KEEP_TARGET=1 (use a running target server as it is)
#
# runner: one hyperfine run of, each a fresh process, against the peers' target server:
#   the 1,000-request flow (500 x POST /payments, capture $.id, GET /payments/{id}, assert
#   $.status == "completed") by rehearse (`rehearse run -q`, built-in environment, the
#   default SQLite store: one file per build, so an older build never meets a newer schema), by
#   Hurl (`hurl --test`) and by the raw floor (flow-client: std-only HTTP/1.1, one
#   connection); then the 1-step run (one POST, expect 201) by rehearse and Hurl.
#   Targets: rehearse's rate >= 2x Hurl's and >= 70% of the floor's; 1 step no slower
#   than Hurl. Medians of RUNS.
#   Each command runs once as a check first, so rehearse's parse cache (~/.cache/rehearse,
#   docs/FORMAT.md) is warm, as when a user runs the same flow again;
#   REHEARSE_CACHE_DIR=off in the environment measures every run parsing the file.
# mock: wrk (lib-wrk.sh: warm-up, REPS x DUR, median) at 32 connections against WireMock
#   standalone with its journal off (its stub GET) and against `rehearse mock-bank`
#   (journal on, auth checked, v1-v3): GET /v2/payments/{id} fresh, POST /v2/payments (a
#   new payment each: the bank then holds its 10,000), GET again holding 10,000, and
#   the mock's RSS. Targets: GET >= 1.5x WireMock, GET p99 < 3 ms, POST >= 25k req/s,
#   RSS < 100 MB holding 10,000 payments.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
WHAT=${1:-all}
PEERS_DIR=${PEERS_DIR:-/work/shared/peers}
[ -f "$PEERS_DIR/env.sh" ] || { echo "no peers kit at $PEERS_DIR (set PEERS_DIR)" >&2; exit 4; }
# shellcheck source=/dev/null
. "$PEERS_DIR/env.sh"
# shellcheck source=/dev/null
. "$PEERS_DIR/lib-wrk.sh"
RUNS=${RUNS:-30}
WARM_JAVA=${WARM_JAVA:-15s}
BANK_PORT=${BANK_PORT:-18085}
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p rehearse
  BIN=$REPO/target/release/rehearse
fi
BIN=$(realpath "$BIN")
[ -n "${BASE_BIN:-}" ] && BASE_BIN=$(realpath "$BASE_BIN")
W=$(mktemp -d)
STARTED_TARGET=0
BANK_PID=
cleanup() {
  [ -n "$BANK_PID" ] && kill "$BANK_PID" 2>/dev/null || true
  "$PEERS_DIR/wiremock-java.sh" stop >/dev/null 2>&1 || true
  [ "$STARTED_TARGET" = 1 ] && "$PEERS_DIR/target-server.sh" stop >/dev/null 2>&1 || true
  rm -rf "$W"
}
trap cleanup EXIT
echo "bench-peers: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ), PIN=${PIN:-0}"
echo "rehearse: $BIN${BASE_BIN:+ (base: $BASE_BIN)}"

ratio() { awk "BEGIN {printf \"%.2f\", $1 / $2}"; }
verdict() { awk "BEGIN {print ($1) ? \"PASS\" : \"FAIL\"}"; }

runner() {
  local base="http://$HOST:$TARGET_PORT" fc="$PEERS_CARGO_TARGET/release/flow-client"
  [ -x "$HURL_BIN" ] || { echo "Hurl not found at $HURL_BIN" >&2; exit 4; }
  [ -x "$fc" ] || "$PEERS_DIR/target-server.sh" build >/dev/null
  # A fresh target server for each series: it keeps every payment, and a long-running one
  # slowed every contender (medians of 200 ms against 127 ms after a restart, 12-07).
  # KEEP_TARGET=1 uses a running one as it is.
  if [ "${KEEP_TARGET:-0}" != 1 ] && curl -fsS "$base/health" >/dev/null 2>&1; then
    "$PEERS_DIR/target-server.sh" stop >/dev/null 2>&1 || true
  fi
  if ! curl -fsS "$base/health" >/dev/null 2>&1; then
    "$PEERS_DIR/target-server.sh" start >/dev/null
    STARTED_TARGET=1
  fi
  mkdir -p "$W/runner"
  {
    printf 'name: runner-bench\nsteps:\n'
    for i in $(seq 500); do
      cat <<R
  - name: create $i
    request: { method: POST, url: "$base/payments", json: { amount: 100, currency: EUR } }
    expect: { status: 201 }
    capture: { id: "\$.id" }
  - name: get $i
    request: { method: GET, url: "$base/payments/{{ id }}" }
    expect: { status: 200, json: { "\$.status": completed } }
R
    done
  } >"$W/runner/flow-1000.yaml"
  printf 'name: one step\nsteps:\n  - name: create\n    request: { method: POST, url: "%s/payments", json: { amount: 100, currency: EUR } }\n    expect: { status: 201 }\n' "$base" >"$W/runner/flow-1.yaml"
  for i in $(seq 500); do
    cat <<H
POST $base/payments
Content-Type: application/json
{"amount": 100, "currency": "EUR"}
HTTP 201
[Captures]
id: jsonpath "\$.id"

GET $base/payments/{{id}}
HTTP 200
[Asserts]
jsonpath "\$.status" == "completed"

H
  done >"$W/runner/flow-1000.hurl"
  printf 'POST %s/payments\nContent-Type: application/json\n{"amount": 100, "currency": "EUR"}\nHTTP 201\n' "$base" >"$W/runner/flow-1.hurl"

  local r=(-N --warmup 3 --runs "$RUNS" --style none)
  local flows=("$BIN run -q --color never --store $W/runner/new.db $W/runner/flow-1000.yaml")
  local names=(rehearse)
  if [ -n "${BASE_BIN:-}" ]; then
    flows+=("$BASE_BIN run -q --color never --store $W/runner/base.db $W/runner/flow-1000.yaml"); names+=(base)
  fi
  flows+=("$HURL_BIN --test --no-color $W/runner/flow-1000.hurl" "$fc $HOST:$TARGET_PORT 500")
  names+=(hurl floor)
  for c in "${flows[@]}"; do
    $c >"$W/check.log" 2>&1 || { echo "FAILED: $c"; tail -5 "$W/check.log"; exit 1; }
  done
  echo "== 1,000 requests: ${names[*]} (hyperfine, $RUNS runs each)"
  hyperfine "${r[@]}" --export-json "$W/flow.json" "${flows[@]}" >/dev/null
  local ones=("$BIN run -q --color never --store $W/runner/new.db $W/runner/flow-1.yaml") onames=(rehearse)
  if [ -n "${BASE_BIN:-}" ]; then
    ones+=("$BASE_BIN run -q --color never --store $W/runner/base.db $W/runner/flow-1.yaml"); onames+=(base)
  fi
  ones+=("$HURL_BIN --test --no-color $W/runner/flow-1.hurl"); onames+=(hurl)
  echo "== 1 step: ${onames[*]}"
  hyperfine "${r[@]}" --export-json "$W/one.json" "${ones[@]}" >/dev/null
  python3 - "$W/flow.json" "$W/one.json" "${names[*]}" "${onames[*]}" <<'PY'
import json, sys
def load(path, names):
    rs = json.load(open(path))["results"]
    return {n: r for n, r in zip(names.split(), rs)}
flow, one = load(sys.argv[1], sys.argv[3]), load(sys.argv[2], sys.argv[4])
print(f"{'':10} {'median ms':>10} {'min ms':>8} {'mean ms':>8} {'req/s':>8}")
for n, r in flow.items():
    print(f"{n:10} {r['median']*1e3:10.1f} {r['min']*1e3:8.1f} {r['mean']*1e3:8.1f} {1000/r['median']:8.0f}")
def verdict(ok): return "PASS" if ok else "FAIL"
for who in [n for n in flow if n in ("rehearse", "base")]:
    t = flow[who]["median"]
    vs_hurl = flow["hurl"]["median"] / t
    vs_floor = flow["floor"]["median"] / t
    print(f"{who}: 1,000 requests at {vs_hurl:.2f}x Hurl's rate (target >= 2: {verdict(vs_hurl >= 2)}), "
          f"{100*vs_floor:.0f}% of the floor's (target >= 70%: {verdict(vs_floor >= 0.7)})")
print(f"{'1 step':10} {'median ms':>10} {'min ms':>8} {'mean ms':>8}")
for n, r in one.items():
    print(f"{n:10} {r['median']*1e3:10.2f} {r['min']*1e3:8.2f} {r['mean']*1e3:8.2f}")
for who in [n for n in one if n in ("rehearse", "base")]:
    t, h = one[who]["median"], one["hurl"]["median"]
    print(f"{who}: 1 step {t*1e3:.2f} ms vs Hurl {h*1e3:.2f} ms (target: no slower: {verdict(t <= h)})")
PY
}

# mock_case NAME BIN: `BIN mock-bank` holding 10,000 payments, beside WireMock's results
mock_case() {
  local name=$1 bin=$2 base="http://$HOST:$BANK_PORT"
  "${SRV_PIN[@]}" "$bin" mock-bank --port "$BANK_PORT" >"$W/bank-$name.log" 2>&1 &
  BANK_PID=$!
  wait_port "$BANK_PORT" 30
  local id
  id=$(curl -fsS -X POST "$base/v2/payments" -H 'authorization: Bearer test-api-key' \
    -H 'content-type: application/json' -H 'idempotency-key: bench-seed' \
    -d '{"amount":"1250.50","currency":"USD","creditor":{"name":"ACME Supplies Ltd","iban":"GB33BUKB20201555555555"},"debtor":{"name":"Rehearse Demo Corp","iban":"DE89370400440532013000"},"reference":"INV-2025-0002"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  wrk_case "$name-get-fresh" -t"$WRK_THREADS" -c"$WRK_CONNS" -s "$W/get.lua" "$base/v2/payments/$id"
  WARM=0 wrk_case "$name-post" -t"$WRK_THREADS" -c"$WRK_CONNS" -s "$W/post.lua" "$base/v2/payments"
  local held
  held=$(curl -fsS "$base/__admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["payments"])')
  if [ "$held" -lt 10000 ]; then
    echo "   $name: only $held payments after the POST runs; POSTing more…"
    wrk -t"$WRK_THREADS" -c"$WRK_CONNS" -d10s -s "$W/post.lua" "$base/v2/payments" >/dev/null
    held=$(curl -fsS "$base/__admin" | python3 -c 'import json,sys; print(json.load(sys.stdin)["payments"])')
  fi
  # The seed payment may have been forgotten (the bank keeps the newest 10,000): GET the
  # newest instead.
  id=$(curl -fsS -X POST "$base/v2/payments" -H 'authorization: Bearer test-api-key' \
    -H 'content-type: application/json' -H 'idempotency-key: bench-last' \
    -d '{"amount":"1250.50","currency":"USD","creditor":{"name":"ACME Supplies Ltd","iban":"GB33BUKB20201555555555"},"debtor":{"name":"Rehearse Demo Corp","iban":"DE89370400440532013000"},"reference":"INV-2025-0002"}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  wrk_case "$name-get-holding" -t"$WRK_THREADS" -c"$WRK_CONNS" -s "$W/get.lua" "$base/v2/payments/$id"
  local rss
  rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$BANK_PID/status")
  echo "$rss" >"$W/rss-$name"
  echo "   $name: holding $held payments, RSS $rss MB"
  kill "$BANK_PID" 2>/dev/null || true
  wait "$BANK_PID" 2>/dev/null || true
  BANK_PID=
}

mock() {
  command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 4; }
  cat >"$W/get.lua" <<'LUA'
wrk.headers["Authorization"] = "Bearer test-api-key"
LUA
  cat >"$W/post.lua" <<'LUA'
local counter = 0
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer test-api-key"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"amount":"1250.50","currency":"USD","creditor":{"name":"ACME Supplies Ltd","iban":"GB33BUKB20201555555555"},"debtor":{"name":"Rehearse Demo Corp","iban":"DE89370400440532013000"},"reference":"INV-2025-0002"}'
function setup(thread) thread:set("tag", tostring(math.random(1, 1000000000))) end
function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = tag .. "-" .. counter
  return wrk.format(nil, "/v2/payments")
end
LUA
  # Results of this run only (lib-wrk.sh keeps them by label under $PEERS_RESULTS).
  export PEERS_RESULTS="$W/results"
  mkdir -p "$PEERS_RESULTS"
  echo "== WireMock standalone, journal off (warm-up $WARM_JAVA)"
  WMJ_JOURNAL=0 "$PEERS_DIR/wiremock-java.sh" start >/dev/null
  WARM=$WARM_JAVA wrk_case wmj-nojournal -t"$WRK_THREADS" -c"$WRK_CONNS" "http://$HOST:$WMJ_PORT/accounts/ACC-1/balance"
  "$PEERS_DIR/wiremock-java.sh" stop >/dev/null
  local labels=(wmj-nojournal) names=(rehearse)
  [ -n "${BASE_BIN:-}" ] && names+=(base)
  for n in "${names[@]}"; do
    local b=$BIN
    [ "$n" = base ] && b=$BASE_BIN
    echo "== $n mock-bank"
    mock_case "$n" "$b"
    labels+=("$n-get-fresh" "$n-post" "$n-get-holding")
  done
  wrk_report "${labels[@]}" | tee "$W/report.txt"
  python3 - "$W/report.txt" "$W" "${names[*]}" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]).read().splitlines()[1:]:
    f = line.split()
    if len(f) >= 5 and f[1] != "no":
        rows[f[0]] = (float(f[1]), float(f[4]))  # req/s median, p99 ms median
def verdict(ok): return "PASS" if ok else "FAIL"
wmj = rows["wmj-nojournal"][0]
for n in sys.argv[3].split():
    fresh, post, held = rows[f"{n}-get-fresh"], rows[f"{n}-post"], rows[f"{n}-get-holding"]
    rss = float(open(f"{sys.argv[2]}/rss-{n}").read())
    print(f"{n}: GET {fresh[0]/wmj:.2f}x WireMock fresh, {held[0]/wmj:.2f}x holding 10,000 "
          f"(target >= 1.5: {verdict(min(fresh[0], held[0]) >= 1.5 * wmj)}); "
          f"GET p99 {fresh[1]:.2f} / {held[1]:.2f} ms (target < 3: {verdict(max(fresh[1], held[1]) < 3)}); "
          f"POST {post[0]:.0f} req/s (target >= 25000: {verdict(post[0] >= 25000)}); "
          f"RSS {rss:.1f} MB (target < 100: {verdict(rss < 100)})")
PY
}

case $WHAT in
  runner) runner ;;
  mock) mock ;;
  all) runner; mock ;;
  *) echo "usage: $0 [runner|mock|all]" >&2; exit 3 ;;
esac
