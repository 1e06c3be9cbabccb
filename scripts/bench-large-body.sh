#!/usr/bin/env bash
# Peak memory of sending a large request body (docs/BENCHMARKS.md, "Large request bodies").
#
#   scripts/bench-large-body.sh [MIB=512] [REHEARSE=target/debug/rehearse]
#
# Makes a MIB-MiB fixture, starts a loopback sink (python3: reads and discards the body,
# answers 200 with the byte count), and runs one scenario per body shape under
# `/usr/bin/time -v` (apt-get install -y time), printing the peak resident set size.
set -euo pipefail
MIB=${1:-512}
BIN=$(realpath "${2:-target/debug/rehearse}")
WORK=$(mktemp -d)
trap 'kill "$SINK" 2>/dev/null || true; rm -rf "$WORK"' EXIT
mkdir -p "$WORK"/{environments,scenarios,fixtures}
head -c "$((MIB * 1024 * 1024))" /dev/zero | tr '\0' 'a' > "$WORK/fixtures/big.txt"
cat > "$WORK/sink.py" <<'PY'
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("content-length", "0")); left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk: break
            left -= len(chunk)
        body = json.dumps({"received": n - left}).encode()
        self.send_response(200); self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body))); self.end_headers(); self.wfile.write(body)
    do_PUT = do_POST
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$WORK/sink.py" > "$WORK/port" &
SINK=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
PORT=$(cat "$WORK/port")
printf 'vars:\n  base: http://127.0.0.1:%s\ntimeouts:\n  request: 300s\n' "$PORT" > "$WORK/environments/bench.yaml"
BYTES=$((MIB * 1024 * 1024))
declare -A SHAPES=(
  [text-fixture]="body: \"{{ fixture('big.txt') }}\""
  [file]="body: { file: big.txt }"
  [multipart]="multipart: { note: hello, upload: { file: big.txt } }"
)
for shape in "${!SHAPES[@]}"; do
  rm -f "$WORK"/scenarios/*
  printf 'name: %s\nsteps:\n  - request:\n      method: POST\n      url: "{{ base }}/sink"\n      %s\n    expect: { status: 200, json: { "$.received": { gte: %d } } }\n' \
    "$shape" "${SHAPES[$shape]}" "$BYTES" > "$WORK/scenarios/$shape.yaml"
  if (cd "$WORK" && /usr/bin/time -v "$BIN" run --env bench > "$WORK/out" 2> "$WORK/time"); then
    status=passed
  else
    status="failed ($(grep -m1 -E 'invalid|error|✗' "$WORK/out" "$WORK/time" | head -c 200))"
  fi
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time")
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time")
  printf '%-13s body %d bytes  peak RSS %6d MiB  wall %s  %s\n' "$shape" "$BYTES" "$((rss / 1024))" "$wall" "$status"
done
