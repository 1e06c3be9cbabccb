#!/usr/bin/env bash
# Load benchmark of the bank mock on loopback (see docs/BENCHMARKS.md, "Bank mock").
# Needs wrk (apt-get install wrk). Usage: scripts/bench-bank-mock.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-32}
PORT=${PORT:-18081}
TOTAL=${TOTAL:-1000000}
cargo build --release -q -p rehearse-bank-mock --example bench_server
BIN=target/release/examples/bench_server
OUT=$(mktemp)
"$BIN" "$PORT" >"$OUT" &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -f "$OUT" "$LUA_GET" "$LUA_POST"' EXIT
for _ in $(seq 50); do [ -s "$OUT" ] && break; sleep 0.1; done
ID=$(head -1 "$OUT")
BASE="http://127.0.0.1:$PORT"
rss() { awk '/VmRSS/ {print $2/1024 " MB"}' "/proc/$PID/status"; }
served() { curl -s "$BASE/__admin" | sed -E 's/.*"requests_served":([0-9]+).*/\1/'; }
recycles() { curl -s "$BASE/__admin" | sed -E 's/.*"mock_recycles":([0-9]+).*/\1/'; }

LUA_GET=$(mktemp --suffix .lua)
cat >"$LUA_GET" <<LUA
wrk.headers["Authorization"] = "Bearer test-api-key"
LUA
LUA_POST=$(mktemp --suffix .lua)
cat >"$LUA_POST" <<'LUA'
local counter = 0
local tag = tostring(math.random(1, 1000000000))
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

echo "== RSS at start: $(rss)"
echo "== GET /v2/payments/$ID, ${SECS}s, $CONNS connections"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$LUA_GET" "$BASE/v2/payments/$ID" | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors|requests in"
echo "== RSS: $(rss)"
echo "== POST /v2/payments (unique Idempotency-Key each), ${SECS}s, $CONNS connections"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$LUA_POST" "$BASE" | grep -E "Requests/sec|99%|50%|Non-2xx|Socket errors|requests in"
echo "== RSS: $(rss)"
while [ "$(served)" -lt "$TOTAL" ]; do
  wrk -t2 -c"$CONNS" -d"${SECS}s" -s "$LUA_GET" "$BASE/v2/payments/$ID" >/dev/null
  echo "   served $(served) requests, RSS $(rss)"
done
echo "== after $(served) requests: RSS $(rss), mock recycles $(recycles)"
