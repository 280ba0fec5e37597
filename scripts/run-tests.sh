#!/usr/bin/env bash
# The test suite, from a fresh clone: make .venv, install Khabar with its test extras, run pytest.
# Extra arguments go to pytest (e.g. `bash scripts/run-tests.sh -k ingest`).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[test]'
exec .venv/bin/python -m pytest "$@"
