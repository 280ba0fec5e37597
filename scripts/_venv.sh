# Sourced by run-main.sh and run-tests.sh: make .venv in the checkout and install Khabar into it
# with the extras named in $1 (e.g. "[test]"), quietly, saying what runs and for how long.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3

# _step MESSAGE CMD...: print MESSAGE, then the elapsed time every 20 s while CMD runs and once
# at the end (on standard error: standard output stays the job's own).
_step() {
  local msg="$1"; shift
  local t0=$SECONDS rc=0
  echo "$msg ..." >&2
  # the nap holds no output: a TERM between its start and nap=$! (a loaded machine) leaves it
  # behind, and it must not keep a caller's pipe open for 20 s
  ( t=0; nap=""; trap '[ -z "$nap" ] || kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do sleep 20 </dev/null >/dev/null 2>&1 & nap=$!; wait "$nap"; t=$((t + 20)); echo "  ... $msg: ${t} s so far" >&2; done ) &
  local heartbeat=$!
  "$@" || rc=$?
  kill "$heartbeat" 2>/dev/null || true
  wait "$heartbeat" 2>/dev/null || true
  if [ "$rc" -ne 0 ]; then echo "$msg: failed after $((SECONDS - t0)) s" >&2; return "$rc"; fi
  echo "$msg: done in $((SECONDS - t0)) s" >&2
}

[ -x .venv/bin/python ] || _step "making .venv" "$PY" -m venv .venv
_step "upgrading pip in .venv" .venv/bin/python -m pip install --quiet --upgrade pip
_step "installing khabar${1:-} and its dependencies into .venv (a few minutes the first time)" .venv/bin/python -m pip install --quiet -e ".${1:-}"
