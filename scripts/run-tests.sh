#!/usr/bin/env bash
# The test suite, from a fresh clone: make .venv, install Khabar with its test extras, run pytest.
# Extra arguments go to pytest (e.g. `bash scripts/run-tests.sh -k ingest`).
source "$(dirname "$0")/_venv.sh" "[test]"
exec .venv/bin/python -m pytest "$@"
