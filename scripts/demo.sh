#!/usr/bin/env bash
# The main job on the built-in default data: set up, build the `small` micro-video benchmark
# into ./workspace, print its stats, train a retriever and show one user's recommendations.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
WS=${GENEREC_HOME:-workspace}
G=.venv/bin/generec
echo "== 1. building the small micro-video benchmark into $WS"
$G data build microvideo --size small --workspace "$WS" --overwrite
echo "== 2. training a retriever (EASE) on every user's clicks and likes"
$G train --model ease --workspace "$WS"
echo "== 3. recommendations for user u00001 (items they have seen are excluded)"
$G recommend --user u00001 -k 10 --workspace "$WS"
