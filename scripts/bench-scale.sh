#!/usr/bin/env bash
# Scaling of a run with many payment scenarios on the embedded stack (issue #10, section 5:
# "5,000 scenarios within 5.5x the time of 1,000 and under 300 MB"). Figures in
# docs/BENCHMARKS.md, "Scaling".
#
# Usage: scripts/bench-scale.sh [SMALL=1000] [LARGE=5000] [JOBS=64]
#   env BIN=path/to/rehearse (default: builds target/release/rehearse)
#       BASE_BIN=path/to/an/older/rehearse (optional: the same runs with it, interleaved, A/B)
#       RUNS=1 (runs of each size; the best time and the largest RSS are kept)
#       JOURNAL=0 leaves out the journal check of the small payments
#
# A generated suite (the shipped fragments and fixtures) holds N scenario files, taking turns:
#   a small payment that settles (create through the platform, check, poll on the virtual
#   clock until settled, read the bank's journal for it, filtered by the bank by its
#   reference, as scenarios/payments/small-payment.yaml does) and
#   a large payment held for review, approved through the bank's back office, polled until
#   settled;
# each with a unique amount, each deleting its payment in cleanup. `rehearse run -q --jobs
# JOBS` runs them on the built-in `local` environment (bank mock + sample platforms
# in-process); /usr/bin/time -v gives the wall time and the peak RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
SMALL=${1:-1000}
LARGE=${2:-5000}
JOBS=${3:-64}
RUNS=${RUNS:-1}
JOURNAL=${JOURNAL:-1}
TIME_RATIO_MAX=5.5
RSS_MAX_MB=300
if [ -z "${BIN:-}" ]; then
  cargo build --release -q -p rehearse
  BIN=target/release/rehearse
fi
# The runs happen inside the generated suites' folders: make the paths absolute.
BIN=$(realpath "$BIN")
[ -z "${BASE_BIN:-}" ] || BASE_BIN=$(realpath "$BASE_BIN")
[ -x /usr/bin/time ] || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 4; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

suite() { # suite N DIR
  mkdir -p "$2/scenarios"
  cp -r scenarios/_fragments "$2/scenarios/_fragments"
  cp -r fixtures "$2/fixtures"
  for ((i = 1; i <= $1; i++)); do
    local f
    f=$(printf '%s/scenarios/p%05d.yaml' "$2" "$i")
    if ((i % 2)); then
      # small: a unique amount below the review threshold, e.g. 100.07
      local amount
      amount=$(printf '%d.%02d' $((100 + i / 100)) $((i % 100)))
      {
        cat <<YAML
name: small payment $i settles
tags: [payments]
steps:
  - include:
      file: _fragments/small-payment.yaml
      with: { amount: "$amount" }
YAML
        [ "$JOURNAL" = 0 ] || cat <<YAML
  - name: the bank received it
    request:
      url: "{{ bank_admin }}/journal"
      query: { path: /v2/payments, method: POST, body.reference: "{{ payment_ref }}" }
    expect:
      json:
        "\$.entries": { len: 1 }
        "\$.entries[0].body.amount": "$amount"
        "\$.entries[0].status": 201
YAML
        cat <<YAML
cleanup:
  - name: delete payment
    request: { method: DELETE, url: "{{ platform }}/payments/{{ payment_id }}" }
    expect: { status: [204, 404] }
YAML
      } >"$f"
    else
      local amount
      amount=$(printf '%d.%02d' $((20000 + i / 100)) $((i % 100)))
      cat >"$f" <<YAML
name: large payment $i is approved and settles
tags: [payments]
steps:
  - include:
      file: _fragments/large-payment-approved.yaml
      with: { amount: "$amount" }
cleanup:
  - name: delete payment
    request: { method: DELETE, url: "{{ platform }}/payments/{{ payment_id }}" }
    expect: { status: [204, 404] }
YAML
    fi
  done
}

measure() { # measure BIN N -> "seconds rss_mb"
  local dir="$WORK/suite-$2" log="$WORK/time-$2.log" best="" rss=0
  for ((r = 1; r <= RUNS; r++)); do
    if ! (cd "$dir" && /usr/bin/time -v "$1" run -q --jobs "$JOBS" --color never) >"$WORK/out" 2>"$log"; then
      echo "run of $2 scenarios with $1 FAILED:" >&2
      tail -n 30 "$WORK/out" "$log" >&2
      exit 1
    fi
    local wall mb
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; print s}' "$log")
    mb=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2 / 1024}' "$log")
    if [ -z "$best" ] || awk "BEGIN {exit !($wall < $best)}"; then best=$wall; fi
    if awk "BEGIN {exit !($mb > $rss)}"; then rss=$mb; fi
  done
  echo "$best $rss"
}

echo "generating suites of $SMALL and $LARGE scenarios…" >&2
suite "$SMALL" "$WORK/suite-$SMALL"
suite "$LARGE" "$WORK/suite-$LARGE"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; jobs $JOBS; $(date -u +%FT%TZ)"
printf '%-10s %7s %9s %9s\n' binary scen. "wall s" "RSS MB"
declare -A T R
for n in "$SMALL" "$LARGE"; do
  for b in ${BASE_BIN:+base} new; do
    bin=$BIN; [ "$b" = base ] && bin=$BASE_BIN
    read -r t m < <(measure "$bin" "$n")
    T[$b-$n]=$t; R[$b-$n]=$m
    printf '%-10s %7d %9.2f %9.1f\n' "$b" "$n" "$t" "$m"
  done
done
for b in ${BASE_BIN:+base} new; do
  ratio=$(awk "BEGIN {printf \"%.2f\", ${T[$b-$LARGE]} / ${T[$b-$SMALL]}}")
  verdict_t=$(awk "BEGIN {print ($ratio <= $TIME_RATIO_MAX) ? \"PASS\" : \"FAIL\"}")
  verdict_m=$(awk "BEGIN {print (${R[$b-$LARGE]} < $RSS_MAX_MB) ? \"PASS\" : \"FAIL\"}")
  echo "$b: time($LARGE)/time($SMALL) = $ratio (target <= $TIME_RATIO_MAX: $verdict_t); RSS at $LARGE = ${R[$b-$LARGE]} MB (target < $RSS_MAX_MB MB: $verdict_m)"
done
