#!/usr/bin/env bash
# Refreshes docs/screenshots/*.png from the browser tests that take them (the only way
# they change: a plain test run renders them but writes nothing).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
sync_environment
cd "$ROOT"
"$ROOT/.venv/bin/pytest" --screenshots -q "$@" \
  tests/e2e/test_canvas.py::test_build_run_publish_call_edit_and_roll_back tests/e2e/test_batches.py
