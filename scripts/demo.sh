#!/usr/bin/env bash
# The main job on the built-in default data: set up, build the `small` micro-video benchmark
# into ./workspace, and print its stats.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
WS=${GENEREC_HOME:-workspace}
echo "== building the small micro-video benchmark into $WS"
.venv/bin/generec data build microvideo --size small --workspace "$WS" --overwrite
echo "== workspace stats"
.venv/bin/generec data stats --workspace "$WS"
