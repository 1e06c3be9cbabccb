#!/usr/bin/env bash
# Renders a rehearse HTML report in headless Chromium (Debian package `chromium`),
# offline: the page must show everything without fetching anything.
#
#   scripts/render-html-report.sh dom REPORT.html
#       prints the DOM after the page's script ran
#   scripts/render-html-report.sh screenshot REPORT.html OUT.png [WIDTH,HEIGHT]
#       writes a PNG (default window 1280,1600)
#
# CHROMIUM=/path/to/binary picks another build. Exit 127 when none is installed.
set -euo pipefail

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

[[ $# -ge 2 ]] || usage
mode=$1
report=$2
[[ -f $report ]] || { echo "error: no report at $report" >&2; exit 2; }

browser=${CHROMIUM:-chromium}
if ! command -v "$browser" >/dev/null 2>&1; then
    echo "error: headless Chromium (\`$browser\`) is not installed; install it with: apt-get install -y chromium" >&2
    exit 127
fi

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
url="file://$(realpath "$report")"
flags=(
    --headless --no-sandbox --disable-gpu --disable-quic --no-first-run
    --disable-background-networking --disable-component-update --disable-sync
    --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$profile"
)

case $mode in
    dom)
        timeout 120 "$browser" "${flags[@]}" --dump-dom "$url" 2>"$profile/stderr" || {
            status=$?
            cat "$profile/stderr" >&2
            exit "$status"
        }
        ;;
    screenshot)
        [[ $# -ge 3 ]] || usage
        out=$(realpath -m "$3")
        size=${4:-1280,1600}
        mkdir -p "$(dirname "$out")"
        timeout 120 "$browser" "${flags[@]}" --window-size="$size" --screenshot="$out" "$url" \
            >"$profile/stdout" 2>"$profile/stderr" || {
            status=$?
            cat "$profile/stdout" "$profile/stderr" >&2
            exit "$status"
        }
        [[ -s $out ]] || { echo "error: chromium wrote no screenshot" >&2; cat "$profile/stderr" >&2; exit 1; }
        echo "$out"
        ;;
    *) usage ;;
esac
