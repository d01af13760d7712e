#!/usr/bin/env bash
# Rebuilds the canvas from web/ with a clean `npm ci` and fails when the committed
# bundle in src/plait/web/static differs from what the sources build (DESIGN §7).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/web"
if ! command -v npm >/dev/null 2>&1; then
  echo "check-web: npm is not installed (Node 20 or newer is needed to build the canvas)" >&2
  exit 1
fi
echo "== web: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== web: npm run build"
npm run build
cd "$ROOT"
changes="$(git status --porcelain --untracked-files=all -- src/plait/web/static)"
if [ -n "$changes" ]; then
  echo "check-web: the committed canvas bundle is stale; these files differ from a fresh build:" >&2
  echo "$changes" >&2
  echo "check-web: run 'cd web && npm ci && npm run build' and commit src/plait/web/static" >&2
  exit 1
fi
echo "check-web: the committed bundle matches the sources"
