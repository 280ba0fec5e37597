#!/usr/bin/env bash
# The main job, from a fresh clone: make .venv, install Khabar, then `khabar release`
# (ingest seeds/ -> corpus/, build and validate the next release if anything changed,
# load it back with datasets.load_dataset and print a summary).
source "$(dirname "$0")/_venv.sh" ""
exec .venv/bin/khabar release "$@"
