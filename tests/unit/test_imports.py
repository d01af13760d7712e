"""What a Plait process loads: each heavy optional library (the MCP SDK, Google's SDK, boto3,
redis-py, SAQ, `limits`) only when the deployment uses what needs it. Each check runs in a
new interpreter: this one has loaded them all for other tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import EXAMPLES

OPTIONAL = ("mcp", "mcp_types", "google.genai", "boto3", "botocore", "redis", "saq", "limits")

# Prints, as the last line of stdout, which of the optional libraries are loaded at exit.
_REPORT = (
    "import atexit, json, sys\n"
    f"atexit.register(lambda: print(json.dumps(sorted(m for m in {OPTIONAL!r}"
    " if m in sys.modules))))\n"
)

_LIFESPAN = (
    "import asyncio\n"
    "from plait.api import create_app\n"
    "app = create_app()\n"
    "async def serve_and_stop():\n"
    "    async with app.router.lifespan_context(app):\n"
    "        pass\n"
    "asyncio.run(serve_and_stop())\n"
)

_RUN = (
    "import sys\n"
    "from plait.cli import main\n"
    "sys.argv = ['plait', 'run', sys.argv[1], '-i', 'prompt=x', '--out', sys.argv[2]]\n"
    "main()\n"
)


def loaded_after(code: str, data_dir: Path, *args: str, **env: str) -> list[str]:
    """The optional libraries loaded when `code` (run with `args`) ends, on the embedded
    defaults: no key, Redis, bucket or database server set, data in `data_dir`."""
    environ = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_", "GOOGLE_"))
    }
    environ.update(PLAIT_DATA_DIR=str(data_dir), **env)
    done = subprocess.run(
        [sys.executable, "-c", _REPORT + code, *args],
        cwd=data_dir.parent,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.splitlines()[-1])
    return loaded


def test_a_server_starting_and_stopping_on_the_defaults_loads_none(tmp_path: Path) -> None:
    """`import plait.api.app`, `create_app()` and its lifespan, up and down."""
    assert loaded_after(_LIFESPAN, tmp_path / "data") == []


def test_plait_run_in_preview_loads_none(tmp_path: Path) -> None:
    out = tmp_path / "out"
    flow = str(EXAMPLES / "product-shot.json")
    assert loaded_after(_RUN, tmp_path / "data", flow, str(out)) == []
    assert (out / "image.png").stat().st_size > 0  # the run did run


def test_a_configured_feature_loads_its_library(tmp_path: Path) -> None:
    """The check sees what is loaded: blobs in a bucket load boto3 (nothing is sent to it
    while the server starts and stops)."""
    bucket = {"PLAIT_BLOB_URL": "s3://plait-test/blobs", "AWS_REGION": "eu-west-1"}
    assert loaded_after(_LIFESPAN, tmp_path / "data", **bucket) == ["boto3", "botocore"]


def test_plait_help_loads_no_engine_store_or_http_library() -> None:
    """`plait` starts lazily: each command loads what it needs when it runs."""
    show = (
        "import sys, runpy, contextlib, io\n"
        "sys.argv = ['plait', '--help']\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    runpy.run_module('plait', run_name='__main__')\n"
        "heavy = ('sqlalchemy', 'alembic', 'httpx', 'pydantic', 'PIL', 'google', 'mcp')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & set(heavy)))\n"
        "print(sorted(m for m in sys.modules if m.startswith('plait.')"
        " and not m.startswith('plait.cli')))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", show], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert loaded == ["[]", "['plait.batch', 'plait.batch.job_limits', 'plait.errors']"]
