#!/usr/bin/env bash
# The main job, from a fresh clone: make .venv, install Khabar, then `khabar release`
# (ingest seeds/ -> corpus/, build and validate the next release if anything changed,
# load it back with datasets.load_dataset and print a summary).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/khabar release "$@"
