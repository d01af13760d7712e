#!/usr/bin/env bash
# Rebuilds the canvas from web/ with a clean `npm ci` and fails when the committed
# bundle in src/plait/web/static differs from what the sources build (DESIGN §7), or when
# the committed OpenAPI dump and the API types generated from it (web/src/api/openapi.json,
# web/src/api/schema.d.ts) differ from what the app makes now (docs/canvas.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT/web"
if ! command -v npm >/dev/null 2>&1; then
  echo "check-web: npm is not installed (Node 20 or newer is needed to build the canvas)" >&2
  exit 1
fi
echo "== web: npm ci"
npm ci --no-audit --no-fund --loglevel=error
echo "== web: the OpenAPI dump and the API types made from it"
# the locked Python environment (./test's), to import the app; it opens nothing
source "$ROOT/scripts/bootstrap.sh"
sync_environment
(cd "$ROOT" && .venv/bin/python -m plait.api.openapi_dump web/src/api/openapi.json)
cd "$ROOT/web"
npm run api-types
echo "== web: npm run build"
npm run build
cd "$ROOT"
types="$(git status --porcelain --untracked-files=all -- web/src/api/openapi.json web/src/api/schema.d.ts)"
if [ -n "$types" ]; then
  echo "check-web: the committed API types are stale; these files differ from the app's:" >&2
  echo "$types" >&2
  echo "check-web: run 'python -m plait.api.openapi_dump && (cd web && npm run api-types)'" \
    "and commit web/src/api/openapi.json and web/src/api/schema.d.ts" >&2
  exit 1
fi
changes="$(git status --porcelain --untracked-files=all -- src/plait/web/static)"
if [ -n "$changes" ]; then
  echo "check-web: the committed canvas bundle is stale; these files differ from a fresh build:" >&2
  echo "$changes" >&2
  echo "check-web: run 'cd web && npm ci && npm run build' and commit src/plait/web/static" >&2
  exit 1
fi
echo "check-web: the committed bundle and API types match the sources"
