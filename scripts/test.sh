#!/usr/bin/env bash
# Runs the test suite (after setting up, so that a fresh clone needs nothing else).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/python -m pytest "$@"
