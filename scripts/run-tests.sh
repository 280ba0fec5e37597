#!/usr/bin/env bash
# The test suite, from a fresh clone: make .venv, install Khabar with its test extras, install the
# Label Studio server (its own virtualenv, .venv-studio) and Debian's Chromium for the browser
# test, then run pytest. The tests start Label Studio themselves on a free loopback port; a
# missing server or browser is an error, never a skip.
# Extra arguments go to pytest (e.g. `bash scripts/run-tests.sh -k ingest`).
source "$(dirname "$0")/_venv.sh" "[test]"
.venv/bin/khabar studio install
if [ ! -x /usr/bin/chromium ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  _step "installing Debian's chromium for the browser test (apt-get)" bash -c \
    "$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null"
fi
_step "checking the import layers (pyproject.toml [tool.importlinter])" .venv/bin/lint-imports
exec .venv/bin/python -m pytest "$@"
