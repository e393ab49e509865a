#!/usr/bin/env bash
# Start the dashboard on the demo practice from a fresh clone: makes .venv if needed, installs
# Knotwork, builds the demo database from data/sample/ and serves it on http://127.0.0.1:8501
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
exec .venv/bin/knotwork demo "$@"
