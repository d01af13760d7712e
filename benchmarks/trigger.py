"""Published-trigger throughput and latency, from a load generator in another process.

Four loads are measured in the same run, on loopback, with the same `wrk` load (POST
with a JSON body, N connections, D seconds), in two pairs whose loads alternate round by
round; medians are reported, a ratio as the median of each round's own:

- bare:   a bare FastAPI route returning the same JSON (benchmarks/bare_app.py), the baseline
- echo:   a published Trigger → Respond flow on `plait serve`
- sdk:    a bare FastAPI route making the image flow's Gemini call through the same SDK
          (benchmarks/bare_app.py): the image flow's baseline, what the SDK alone costs
- image:  a published Trigger → Image → Respond flow, the Image node on the fake Gemini
          answering at once (the real SDK over HTTP)

Each Plait request records a run with its node runs in SQLite. Targets: the echo flow at
least 0.25× bare's throughput, the image flow at least 0.65× sdk's (`TARGETS`). The p99
is reported, not judged: at 50 clients the sdk baseline alone is far above 25 ms (Little's
law, docs/benchmarks.md).

    apt-get install wrk
    .venv/bin/python benchmarks/trigger.py [--connections 50] [--duration 5] [--rounds 3]
        [--warmup 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import loopback  # noqa: E402
from tests.fakes.gemini import FakeGemini  # noqa: E402

ADMIN = {"email": "bench@example.com", "password": "benchmark password"}
# each flow's ratio to its baseline, at least (docs/benchmarks.md)
TARGETS = {"echo": 0.25, "image": 0.65}

LUA = """wrk.method = "POST"
wrk.body = '{"prompt": "a red sneaker on white"}'
wrk.headers["Content-Type"] = "application/json"
"""


@dataclass
class Load:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float | None  # the server process's CPU per request (not its children's)
    requests: int = 0  # answered in the load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def cpu_seconds(self) -> float | None:
        """The process's CPU time so far, not its children's (Linux's /proc; None elsewhere)."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@contextmanager
def process(args: list[str], env: dict[str, str], port: int, ready: str) -> Iterator[Server]:
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        try:
            _ready(proc, log, f"http://127.0.0.1:{port}{ready}")
            yield Server(f"http://127.0.0.1:{port}", proc.pid)
        finally:
            proc.terminate()
            proc.wait(30)


def _ready(proc: subprocess.Popen[bytes], log: Any, url: str) -> None:
    """Once `url` answers; the server's output if it dies or takes a minute."""
    deadline = time.monotonic() + 60
    while True:
        try:
            loopback.get(url, timeout=1)
            return
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"server did not start: {log.read().decode()}") from None
            time.sleep(0.05)


def plait_server(data_dir: Path, gemini_url: str, port: int) -> AbstractContextManager[Server]:
    env = {
        **os.environ,
        "PLAIT_DATA_DIR": str(data_dir),
        "PLAIT_ADMIN_EMAIL": ADMIN["email"],
        "PLAIT_ADMIN_PASSWORD": ADMIN["password"],
        "PLAIT_GEMINI_BASE_URL": gemini_url,
        "GEMINI_API_KEY": "bench-key",
        "PLAIT_BASE_URL": f"http://127.0.0.1:{port}",
    }
    plait = str(Path(sys.executable).parent / "plait")
    return process(
        [plait, "serve", "--port", str(port), "--no-access-log"], env, port, "/api/health"
    )


def bare_server(gemini_url: str, port: int) -> AbstractContextManager[Server]:
    """The baselines, on uvicorn as `plait serve` runs (httptools, no access log)."""
    uvicorn = str(Path(sys.executable).parent / "uvicorn")
    args = [uvicorn, "benchmarks.bare_app:app", "--port", str(port), "--no-access-log"]
    args += ["--http", "httptools"]
    env = {**os.environ, "PLAIT_GEMINI_BASE_URL": gemini_url, "GEMINI_API_KEY": "bench-key"}
    return process(args, env, port, "/docs")


def publish(url: str, document: dict[str, Any]) -> str:
    with loopback.client(base_url=url, timeout=30) as client:
        login = client.post("/api/auth/login", json=ADMIN).raise_for_status().json()
        client.headers["X-CSRF-Token"] = login["csrf_token"]
        flow = client.post("/api/flows", json={"document": document}).raise_for_status().json()
        publication = client.post(
            f"/api/flows/{flow['id']}/publish", json={"rate_limit_per_minute": 1_000_000}
        ).raise_for_status()
        return str(publication.json()["triggers"][0]["url"]).replace(
            "<SECRET>", publication.json()["secret"]
        )


def echo_flow() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
            {
                "id": "respond",
                "type": "respond",
                "config": {"fields": [{"name": "prompt"}, {"name": "label", "value": "v1"}]},
            },
        ],
        "edges": [{"from": "trigger.prompt", "to": "respond.prompt"}],
    }


def image_flow() -> dict[str, Any]:
    return {
        "format": 1,
        "nodes": [
            {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
            {"id": "image", "type": "image", "config": {"prompt": "{{ trigger.prompt }}"}},
            {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
        ],
        "edges": [{"from": "image.image", "to": "respond.image"}],
    }


Target = tuple[str, Server]  # a URL to load, and the server that answers it


def wrk(name: str, target: Target, connections: int, duration: int, script: Path) -> Load:
    url, server = target
    threads = min(2, connections)
    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s"]
    cpu_before = server.cpu_seconds()
    out = subprocess.run([*args, str(script), url], capture_output=True, text=True, check=True)
    requests = int(re.search(r"(\d+) requests in", out.stdout).group(1))  # type: ignore[union-attr]
    cpu_ms = _per_request_ms(cpu_before, server.cpu_seconds(), requests)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out.stdout)
    socket_errors = re.search(r"Socket errors: .*", out.stdout)
    if socket_errors:
        print(f"  {name}: {socket_errors.group(0)}")
    return Load(
        name,
        float(re.search(r"Requests/sec:\s+([\d.]+)", out.stdout).group(1)),  # type: ignore[union-attr]
        _ms(re.search(r"50%\s+([\d.]+\w+)", out.stdout).group(1)),  # type: ignore[union-attr]
        _ms(re.search(r"99%\s+([\d.]+\w+)", out.stdout).group(1)),  # type: ignore[union-attr]
        int(errors.group(1)) if errors else 0,
        cpu_ms,
        requests,
    )


def _per_request_ms(before: float | None, after: float | None, requests: int) -> float | None:
    if before is None or after is None or requests == 0:
        return None
    return (after - before) * 1000 / requests


def measure(targets: dict[str, Target], args: argparse.Namespace, script: Path) -> list[list[Load]]:
    """Rounds of one load per target, in turn: a machine that slows down for a while
    slows every target of a round alike, so each round's ratios stay fair."""
    for name, target in targets.items():  # warm up: first calls, caches, lazy imports
        wrk(name, target, args.connections, args.warmup, script)
    rounds = []
    for number in range(1, args.rounds + 1):
        rounds.append(
            [wrk(n, t, args.connections, args.duration, script) for n, t in targets.items()]
        )
        print(f"round {number}: " + ", ".join(f"{r.name} {r.rps:.0f} req/s" for r in rounds[-1]))
    return rounds


def _median_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _ms(text: str) -> float:
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=5, help="seconds per load")
    parser.add_argument("--rounds", type=int, default=3, help="loads per target, interleaved")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure, print the report, and return its figures."""
    args = arguments(argv)
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/trigger.py needs wrk: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp, FakeGemini() as fake:
        script = Path(tmp) / "post.lua"
        script.write_text(LUA)
        with (
            bare_server(fake.base_url, free_port()) as bare,
            plait_server(Path(tmp) / "data", fake.base_url, free_port()) as plait,
        ):
            echo = (publish(plait.url, echo_flow()), plait)
            image = (publish(plait.url, image_flow()), plait)
            # each flow alternates with its baseline; the image pair's loads come after,
            # so the state they leave behind (a bigger heap, a busier disk) does not weigh on echo
            echoes = measure({"bare": (f"{bare.url}/bare", bare), "echo": echo}, args, script)
            images = measure({"sdk": (f"{bare.url}/sdk", bare), "image": image}, args, script)
    return report([echoes, images], args.connections)


def report(pairs: list[list[list[Load]]], connections: int) -> dict[str, Any]:
    """Each target's median round; a flow's ratio is the median of each round's own ratio
    to its baseline (the first load of its pair)."""
    rounds = len(pairs[0])
    print(f"\n{connections} connections, wrk on loopback, median of {rounds} rounds")
    header = f"{'':8}{'req/s':>10}{'ratio':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}"
    print(f"{header}{'CPU ms/req':>12}")
    figures: dict[str, Any] = {}
    for pair in pairs:
        for i, name in enumerate(load.name for load in pair[0]):
            loads = [round_[i] for round_ in pair]
            ratio = statistics.median(round_[i].rps / round_[0].rps for round_ in pair)
            m = Load(
                name,
                statistics.median(r.rps for r in loads),
                statistics.median(r.p50_ms for r in loads),
                statistics.median(r.p99_ms for r in loads),
                sum(r.errors for r in loads),
                _median_or_none([r.cpu_ms for r in loads]),
                sum(r.requests for r in loads),
            )
            figures[name] = m.__dict__ | ({"ratio": ratio} if i else {})
            shown = f"{ratio:>10.2f}" if i else f"{'':>10}"
            cpu = "" if m.cpu_ms is None else f"{m.cpu_ms:>12.3f}"
            print(
                f"{name:8}{m.rps:>10.0f}{shown}{m.p50_ms:>10.2f}{m.p99_ms:>10.2f}{m.errors:>10}{cpu}"
            )
    verdicts = [
        f"{name} ≥ {least:.2f}× its baseline: {_verdict(figures[name]['ratio'] >= least)}"
        for name, least in TARGETS.items()
    ]
    print("\ntargets: " + "; ".join(verdicts))
    print(f"(sdk, the image flow's floor without Plait, has p99 {figures['sdk']['p99_ms']:.1f} ms)")
    print(
        "CPU ms/req: the server process's own (Plait's commit child not included); with "
        f"{connections} clients waiting in turn, a server spending c ms of CPU per request on "
        f"one core answers in at least {connections} × c ms on average (Little's law)"
    )
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
