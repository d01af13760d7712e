"""What a Plait process costs to start: the CPU (user + system, its child processes
included) of each start-up below, median of N, on the embedded defaults (no Gemini key,
Redis, bucket or database server; a new data dir each time, as the tests use).

- `import plait.api.app`; `plait --help`;
- `plait run examples/flows/product-shot.json -i prompt=x` (the offline preview);
- `plait serve` until its first `/api/health` answer (its SQLite commit child included).

Baseline, in the same run: an interpreter importing only the libraries every Plait server
needs (FastAPI, SQLAlchemy's asyncio engine, pydantic-settings, Pillow, httpx); each
start-up is printed with its ratio to it. Not a test: figures are printed and returned.

    .venv/bin/python benchmarks/startup.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scale import _children  # noqa: E402
from benchmarks.trigger import free_port, process  # noqa: E402

BIN = Path(sys.executable).parent
FLOW = str(ROOT / "examples" / "flows" / "product-shot.json")
NEEDED = "import fastapi, sqlalchemy.ext.asyncio, pydantic_settings, PIL.Image, httpx"


def environment(data_dir: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_"))}
    return {**kept, "PLAIT_DATA_DIR": data_dir}


def command_cpu(*args: str) -> float:
    """The CPU seconds of running `args` to its end, in a new folder and data dir."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryDirectory() as folder:
        env = environment(str(Path(folder) / ".plait"))
        subprocess.run(args, cwd=folder, env=env, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def tree_cpu(pid: int) -> float:
    """The CPU seconds of a live process and its children so far (Linux's /proc)."""
    total = 0
    for each in [pid, *_children(pid)]:
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(tick) for tick in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def serve_cpu() -> float:
    """The CPU seconds of `plait serve` until its first health answer."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        args = [str(BIN / "plait"), "serve", "--port", str(port), "--no-access-log"]
        with process(args, environment(data_dir), port, "/api/health") as server:
            return tree_cpu(server.pid)


STARTS: dict[str, Callable[[], float]] = {
    "baseline: import the libraries Plait needs": lambda: command_cpu(sys.executable, "-c", NEEDED),
    "import plait.api.app": lambda: command_cpu(sys.executable, "-c", "import plait.api.app"),
    "plait --help": lambda: command_cpu(str(BIN / "plait"), "--help"),
    "plait run (preview)": lambda: command_cpu(
        str(BIN / "plait"), "run", FLOW, "-i", "prompt=x", "--out", "out"
    ),
    "plait serve to its first health answer": serve_cpu,
}


def main(rounds: int = 3, only: list[str] | None = None) -> dict[str, float]:
    """The median CPU seconds of each start-up (`only`: these, and the baseline)."""
    chosen = {n: f for n, f in STARTS.items() if only is None or n in only or "baseline" in n}
    medians: dict[str, float] = {}
    for name, start in chosen.items():
        medians[name] = statistics.median(start() for _ in range(rounds))
    baseline = medians[next(iter(STARTS))]
    for name, seconds in medians.items():
        print(f"{name:45} {seconds:5.2f} s CPU  {seconds / baseline:4.1f}× baseline")
    return medians


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="start-ups of each, median")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main(arguments().rounds)
