#!/usr/bin/env bash
# The main job on the built-in default data: set up, build the `small` micro-video benchmark
# into ./workspace, print its stats, train a retriever, show one user's recommendations, then
# repurpose the top one for them: a personal cover (shown beside the original) and a personal clip;
# the instructor turns their words into a changed feed; the AI creator is trained and makes a video;
# finally a key for u00001 and how to open their feed in a browser.
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
ITEM=$($G recommend --user u00001 -k 1 --workspace "$WS" --json | .venv/bin/python -c "import json, sys; print(json.load(sys.stdin)['items'][0]['item_id'])")
echo "== 4. AI editor: a personal cover of $ITEM for u00001 (original on the left, personal on the right)"
$G edit cover --user u00001 --item "$ITEM" --compare "$WS/reports/cover-u00001-$ITEM.png" --workspace "$WS"
echo "== 5. AI editor: a personal 5-second clip of $ITEM for u00001"
$G edit clip --user u00001 --item "$ITEM" --workspace "$WS"
echo "== 6. instructor: u00001 says what they want; the guidance changes the feed (compare with step 3)"
$G instruct --user u00001 "no more food please, show me something in black and white under 8 seconds" --apply -k 10 --workspace "$WS"
echo "== 7. AI creator: train the embedded model on the catalogue's own frames (3 minutes here; docs/BENCHMARKS.md uses 30)"
$G train --model creator --minutes 3 --workspace "$WS"
echo "== 8. AI creator: u00001 asks for something new; a 6-second micro-video made for them (origin ai_created)"
$G create --user u00001 --instruction "make me a sketch video of animals" --n 1 --workspace "$WS"
echo "== 9. the loop as a service: u00001's feed (the same GeneRec call the HTTP service makes), and a key for them"
$G feed --user u00001 -k 5 --no-log --workspace "$WS"
KEY=$($G users token u00001 --workspace "$WS")
echo "u00001's API key (shown once): $KEY"
echo "open the web feed: .venv/bin/generec serve --workspace $WS   then browse http://127.0.0.1:8000/ and sign in with the key above"
echo "or call the API:   curl -H \"Authorization: Bearer $KEY\" \"http://127.0.0.1:8000/v1/feed?k=10\"  (docs: http://127.0.0.1:8000/docs)"
