#!/usr/bin/env bash
# The test command of README.md and .ci/run: installs what the tests need when it is
# missing (Debian/Ubuntu, with apt-get; sudo when not root), then runs every test binary
# of the workspace, even after one fails. httpbin (for tests/httpbin.rs) comes from PyPI,
# with `pip install --user`.
#
#   scripts/test.sh [ARGS…]        ARGS go to `cargo test --workspace --no-fail-fast`
#   scripts/test.sh --install-only only the installs; README.md and .ci/run write the test
#                                  command as `scripts/test.sh --install-only && cargo test …`
#
# REHEARSE_SKIP_BROWSER=1   do not install Chromium, and skip the HTML report's browser test
# REHEARSE_TEST_DRY_RUN=1   print what is missing and what would run; change nothing
# REHEARSE_PYTHON=PATH      the Python that has (or gets) httpbin, e.g. a venv's; default python3
set -euo pipefail
here=${BASH_SOURCE[0]%/*}
[[ $here == "${BASH_SOURCE[0]}" ]] && here=.
cd "$here/.."

# What the tests run besides cargo: command, Debian packages, who needs it. (bash and
# coreutils are there on any Debian.)
needs=(
  "cc|gcc libc6-dev|the linker cargo calls to build any test binary"
  "openssl|openssl|tests/tls.rs makes its keys and serves mTLS with \`openssl s_server\`"
  "script|bsdutils|tests/prompt.rs gives rehearse a pseudo-terminal with util-linux \`script\`"
  "kill|procps|tests/cli.rs, tests/schedule.rs and the sample platform's tests send signals"
  "python3|python3 python3-pip|tests/httpbin.rs runs httpbin, a Python package from PyPI"
  # Not on PATH: Debian keeps the server's programs under /usr/lib/postgresql/VERSION/bin.
  "/usr/lib/postgresql/*/bin/initdb|postgresql|the store's tests start their own PostgreSQL server (crates/store/tests, tests/store_history.rs)"
)
# What the tests need from PyPI, installed with pip (--user) once python3 is there.
httpbin=httpbin==0.10.4  # psf/httpbin: works with Flask 3.1 and Werkzeug 3.1
if [[ ${REHEARSE_SKIP_BROWSER:-} != 1 ]]; then
  needs+=("chromium|chromium|crates/report/tests/browser.rs renders the HTML report headless")
fi

install_only=
if [[ ${1:-} == --install-only ]]; then
  install_only=1
  shift
fi
dry_run=${REHEARSE_TEST_DRY_RUN:-}
cargo_cmd=(cargo test --workspace --no-fail-fast "$@")

if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo is not on PATH; install Rust with rustup (https://rustup.rs), then run scripts/test.sh again" >&2
  [[ $dry_run == 1 ]] || exit 1
fi

missing=()
for need in "${needs[@]}"; do
  IFS='|' read -r cmd package why <<<"$need"
  if [[ $cmd == */* ]]; then
    found=$(compgen -G "$cmd" || true)
  else
    found=$(type -P "$cmd" || true)  # a file, not a bash builtin (kill)
  fi
  if [[ -z $found ]]; then
    echo "missing: \`$cmd\` (Debian package $package): $why" >&2
    read -ra packages <<<"$package"
    missing+=("${packages[@]}")
  fi
done

if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u 2>/dev/null || echo 1) == 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    as_root=(none)
  fi
  install=(apt-get install -y -qq --no-install-recommends "${missing[@]}")
  if [[ $dry_run == 1 ]]; then
    echo "would install: ${missing[*]}" >&2
  elif ! command -v apt-get >/dev/null 2>&1 || [[ ${as_root[0]:-} == none ]]; then
    why="there is no apt-get here"
    command -v apt-get >/dev/null 2>&1 && why="you are not root and there is no sudo"
    echo "error: failed to install ${missing[*]}: $why." >&2
    echo "  install them with your package manager, then run scripts/test.sh again" >&2
    echo "  (REHEARSE_SKIP_BROWSER=1 skips the one test that needs Chromium)" >&2
    exit 1
  else
    echo "installing: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" "${install[@]}" >/dev/null
  fi
fi

python=${REHEARSE_PYTHON:-python3}
if ! "$python" -c 'import httpbin.core' >/dev/null 2>&1; then
  echo "missing: the Python package httpbin (PyPI $httpbin): tests/httpbin.rs runs it" >&2
  pip=("$python" -m pip install --user --quiet "$httpbin")
  if [[ $dry_run == 1 ]]; then
    echo "would run: ${pip[*]}" >&2
  elif ! "${pip[@]}" >&2 && ! "${pip[@]}" --break-system-packages >&2; then
    echo "error: failed to install $httpbin with \`${pip[*]}\`." >&2
    echo "  install it (pip, or a venv whose python you name in REHEARSE_PYTHON), then run" >&2
    echo "  scripts/test.sh again" >&2
    exit 1
  fi
fi

if [[ $install_only == 1 ]]; then
  exit 0
fi
if [[ $dry_run == 1 ]]; then
  echo "would run: ${cargo_cmd[*]}" >&2
  exit 0
fi
exec "${cargo_cmd[@]}"
