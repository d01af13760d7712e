# Sourced by ./plait and ./test, which then call `sync_environment [uv sync options]`:
# makes sure uv and the locked environment exist.
# Needs only Python >= 3.11 on the machine; everything else comes from PyPI.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT="$ROOT/.venv" UV_SYSTEM_CERTS=1

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      # The interpreter itself, not its launcher: uv compares paths, and given a pyenv
      # shim (a script) it found the environment "does not satisfy" it and rebuilt .venv
      # on every sync, so ./plait (--no-dev) also removed ./test's tools.
      "$candidate" -c 'import sys; print(sys.executable)'; return 0
    fi
  done
  echo "plait: Python 3.11 or newer is needed; install it (e.g. apt-get install python3)" >&2
  return 1
}

find_uv() {
  local uv
  uv="$(command -v uv || true)"
  if [ -z "$uv" ]; then
    uv="$ROOT/.tools/bin/uv"
    if [ ! -x "$uv" ]; then
      echo "plait: first run: installing uv into .tools/ ..." >&2
      "$(find_python)" -m venv "$ROOT/.tools" >&2
      "$ROOT/.tools/bin/python" -m pip install --quiet "uv==0.13.8" >&2
    fi
  fi
  echo "$uv"
}

sync_environment() {
  local uv
  uv="$(find_uv)"
  UV_PYTHON="${UV_PYTHON:-$(find_python)}" "$uv" sync --frozen --quiet --project "$ROOT" "$@" >&2
}
