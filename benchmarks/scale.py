"""Scale-out throughput of the image flow (Trigger → Image → Respond), under `wrk`.

Two pairs of deployments, each pair's loads alternating round by round (medians; a
ratio is the median of each round's own), all on loopback with the fake Gemini answering
every image call after a fixed latency through the real SDK:

- 1 worker:  `plait serve --no-worker` + one `plait worker`, PostgreSQL + Redis (SAQ queue,
             signals, rate limits), images in local files (one data dir on this machine)
- 2 workers: the same with two `plait worker` processes — the ratio is 2 workers ÷ 1 worker
- sqlite:    one `plait serve` executing its runs, SQLite, local files, no Redis
- postgres:  the same on PostgreSQL — the ratio is postgres ÷ sqlite

The PostgreSQL and Redis servers are the tests' (tests/services.py: Debian's packages,
started here on free ports). CPU ms/call is the CPU of all of a deployment's Plait
processes (not PostgreSQL's, Redis's or the fake's) per answered call, read from
/proc/<pid>/stat before and after each load (far steadier than calls/s on a shared
machine), also per role: `serve` (the HTTP process), `commit` (its child that commits
SQLite batches), `workers` (every `plait worker` together).

    apt-get install wrk postgresql redis-server
    .venv/bin/python benchmarks/scale.py [--connections 64] [--duration 10] [--rounds 3]
        [--latency 0.2] [--warmup 2]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.cluster import Cluster, environment  # noqa: E402
from tests.fakes.gemini import FakeGemini  # noqa: E402
from tests.services import Postgres, Redis, postgres_server, redis_server  # noqa: E402

from benchmarks.trigger import ADMIN, LUA, Load, Server, image_flow, publish, wrk  # noqa: E402

TARGET_WORKERS_RATIO = 1.5


@dataclass(frozen=True)
class Deployment(Server):
    """The server `wrk` loads, and every Plait process whose CPU counts, by role."""

    roles: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def cpu_seconds(self) -> float | None:
        by_role = self.role_cpu_seconds()
        return None if by_role is None else sum(by_role.values())

    def role_cpu_seconds(self) -> dict[str, float] | None:
        """Each role's CPU so far (a server's children, its commit process, as `commit`)."""
        roles = dict(self.roles)
        if "serve" in roles:
            roles["commit"] = tuple(c for pid in roles["serve"] for c in _children(pid))
        found: dict[str, float] = {}
        for role, pids in roles.items():
            seconds = [Server(self.url, pid).cpu_seconds() for pid in pids]
            if None in seconds:
                return None
            if pids:
                found[role] = sum(s for s in seconds if s is not None)
        return found


def _children(pid: int) -> list[int]:
    """The process's children (Linux's /proc; none elsewhere)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in task.read_text().split()]
    return found


@dataclass
class ScaleLoad(Load):
    roles_ms: dict[str, float] = field(default_factory=dict)  # CPU per call, by role


def measured(
    name: str, target: tuple[str, Deployment], args: argparse.Namespace, script: Path
) -> ScaleLoad:
    """One `wrk` load, with each role's CPU per answered call."""
    before = target[1].role_cpu_seconds()
    load = wrk(name, target, args.connections, args.duration, script)
    after = target[1].role_cpu_seconds()
    roles = {}
    if before is not None and after is not None and load.requests:
        roles = {r: (after[r] - before.get(r, 0.0)) * 1000 / load.requests for r in after}
    return ScaleLoad(**load.__dict__, roles_ms=roles)


@dataclass(frozen=True)
class Shape:
    name: str
    workers: int  # 0: the server executes its runs
    postgres: bool
    redis: bool


@dataclass
class Services:
    postgres: Postgres
    redis: Redis
    gemini_url: str
    work: Path


@contextlib.contextmanager
def deployment(shape: Shape, services: Services, redis_db: int) -> Iterator[Deployment]:
    """The shape's processes, started, then stopped; their logs printed if one fails."""
    settings = {
        "PLAIT_ADMIN_EMAIL": ADMIN["email"],
        "PLAIT_ADMIN_PASSWORD": ADMIN["password"],
        "PLAIT_IMAGE_BACKEND": "gemini",
        "GEMINI_API_KEY": "bench-key",
        "PLAIT_GEMINI_BASE_URL": services.gemini_url,
    }
    database = services.postgres.new_database() if shape.postgres else None
    if database:
        settings["PLAIT_DATABASE_URL"] = database
    if shape.redis:
        settings["PLAIT_REDIS_URL"] = services.redis.url(redis_db)
    workdir = services.work / shape.name.replace(" ", "-")
    workdir.mkdir()
    cluster = Cluster(workdir, environment(workdir / "data", **settings))
    try:
        server = cluster.serve(worker=shape.workers == 0)
        for _ in range(shape.workers):
            cluster.worker()
        workers = tuple(p.popen.pid for p in cluster.workers)
        roles = {"serve": (server.popen.pid,), "workers": workers}
        yield Deployment(server.url or "", server.popen.pid, roles)
    except BaseException:
        print(cluster.logs(), file=sys.stderr)
        raise
    finally:
        cluster.stop()
        if database:
            services.postgres.drop_database(database)


def measure_pair(
    shapes: tuple[Shape, Shape], services: Services, args: argparse.Namespace
) -> list[list[ScaleLoad]]:
    """Rounds of one load per deployment of the pair, in turn (both stay up)."""
    with (
        deployment(shapes[0], services, 1) as first,
        deployment(shapes[1], services, 2) as second,
    ):
        script = services.work / "post.lua"
        script.write_text(LUA)
        targets = {
            s.name: (publish(d.url, image_flow()), d)
            for s, d in zip(shapes, (first, second), strict=True)
        }
        for name, target in targets.items():  # warm up: first calls, caches, lazy imports
            wrk(name, target, args.connections, args.warmup, script)
        rounds: list[list[ScaleLoad]] = []
        for number in range(1, args.rounds + 1):
            loads = [measured(n, t, args, script) for n, t in targets.items()]
            rounds.append(loads)
            print(f"round {number}: " + ", ".join(f"{r.name} {r.rps:.1f} calls/s" for r in loads))
        return rounds


def summary(rounds: list[list[ScaleLoad]]) -> dict[str, dict[str, Any]]:
    """Each load's medians; the second's ratio to the first, the median of the rounds'."""
    figures: dict[str, dict[str, Any]] = {}
    for i, name in enumerate(load.name for load in rounds[0]):
        loads = [round_[i] for round_ in rounds]
        cpu = [r.cpu_ms for r in loads if r.cpu_ms is not None]
        figures[name] = {
            "rps": statistics.median(r.rps for r in loads),
            "p50_ms": statistics.median(r.p50_ms for r in loads),
            "p99_ms": statistics.median(r.p99_ms for r in loads),
            "errors": sum(r.errors for r in loads),
            "cpu_ms": statistics.median(cpu) if cpu else None,
            "roles_ms": {
                role: statistics.median(r.roles_ms.get(role, 0.0) for r in loads)
                for role in loads[0].roles_ms
            },
        }
        if i:
            figures[name]["ratio"] = statistics.median(
                r[i].rps / r[0].rps if r[0].rps else 0.0 for r in rounds
            )
    return figures


def report(figures: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    print(
        f"\nimage flow, fake Gemini at {args.latency * 1000:.0f} ms, {args.connections} "
        f"connections, median of {args.rounds} rounds of {args.duration} s"
    )
    print(
        f"{'':10}{'calls/s':>10}{'ratio':>8}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}"
        f"{'CPU ms/call':>13}  by role"
    )
    for name, m in figures.items():
        ratio = f"{m['ratio']:>8.2f}" if "ratio" in m else f"{'':>8}"
        cpu = f"{'':>13}" if m["cpu_ms"] is None else f"{m['cpu_ms']:>13.2f}"
        roles = ", ".join(f"{role} {ms:.2f}" for role, ms in m["roles_ms"].items())
        print(
            f"{name:10}{m['rps']:>10.1f}{ratio}{m['p50_ms']:>10.0f}{m['p99_ms']:>10.0f}"
            f"{m['errors']:>9}{cpu}  {roles}"
        )
    scaled = figures["2 workers"]["ratio"]
    verdict = "PASS" if scaled >= TARGET_WORKERS_RATIO else "MISS"
    print(f"\ntarget: 2 workers ≥ {TARGET_WORKERS_RATIO}× 1 worker: {verdict} ({scaled:.2f}×)")
    print(f"cores: {os.cpu_count()}; load average {os.getloadavg()[0]:.1f} at the end")
    print(json.dumps(figures))


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--duration", type=int, default=10, help="seconds per load")
    parser.add_argument("--rounds", type=int, default=3, help="loads per deployment, interleaved")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before measuring")
    parser.add_argument("--latency", type=float, default=0.2, help="the fake's seconds per image")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Measure both pairs, print the report, and return its figures."""
    args = arguments(argv)
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/scale.py needs wrk: apt-get install wrk")
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeGemini(latency=args.latency) as fake,
        postgres_server() as postgres,
        redis_server() as redis,
    ):
        services = Services(postgres, redis, fake.base_url, Path(tmp))
        workers = (Shape("1 worker", 1, True, True), Shape("2 workers", 2, True, True))
        databases = (Shape("sqlite", 0, False, False), Shape("postgres", 0, True, False))
        figures = summary(measure_pair(workers, services, args))
        figures |= summary(measure_pair(databases, services, args))
    report(figures, args)
    return figures


if __name__ == "__main__":
    main()
