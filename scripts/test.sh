#!/usr/bin/env bash
# Run the whole test suite from a fresh clone: makes .venv if needed, installs Knotwork with its
# test extra, then runs pytest (browser tests need Debian's chromium at /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[test]"
exec .venv/bin/python -m pytest "$@"
