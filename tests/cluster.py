"""Plait scaled out as a deployment runs it, for tests and benchmarks: `plait serve` and
`plait worker` as real processes (`python -m plait ...`) sharing one environment — the
database, Redis and blob store the caller names in it.

Each process writes its output to a log file of its own; `Cluster.logs()` gathers them
(the test fixtures print them at teardown, which pytest shows when a test failed)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests import loopback
from tests.helpers import until
from tests.server import ADMIN_EMAIL, ADMIN_PASSWORD, SignedIn, sign_in
from tests.services import free_port

START_SECONDS = 90  # how long a process may take to answer (the machine is shared)


def environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without its PLAIT_/GEMINI_ settings, plus what every
    process of a cluster needs (one secret key: links signed by one verify on another)."""
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_", "GOOGLE_"))
    }
    return inherited | {
        "PLAIT_DATA_DIR": str(data_dir),
        "PLAIT_SECRET_KEY": "test-master-key",
        "PLAIT_ADMIN_EMAIL": ADMIN_EMAIL,
        "PLAIT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        **settings,
    }


def answers(url: str) -> bool:
    """Whether the server at `url` says it is ready (`/api/health` answers 200)."""
    try:
        return loopback.get(f"{url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str | None = None  # a server's

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def said(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as when a machine dies."""
        self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(30)

    def stop(self) -> None:
        if self.alive:
            self.popen.terminate()
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Cluster:
    """Processes started in `workdir` with `env` (see `environment`)."""

    workdir: Path
    env: dict[str, str]
    processes: list[Process] = field(default_factory=list)
    sessions: dict[str, SignedIn] = field(default_factory=dict)  # the admin's, by server URL

    def _start(self, name: str, *args: str, env: dict[str, str]) -> Process:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen(
                [sys.executable, "-m", "plait", *args],
                cwd=self.workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def serve(self, *, worker: bool = False) -> Process:
        """`plait serve` on a free port (`--no-worker` unless `worker`), once it answers."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = ["serve", "--port", str(port), "--no-access-log"]
        if not worker:
            args.append("--no-worker")
        name = f"serve-{len(self.servers) + 1}"
        process = self._start(name, *args, env=self.env | {"PLAIT_BASE_URL": url})
        process.url = url
        until(lambda: not process.alive or answers(url), f"{name} to answer", START_SECONDS)
        assert process.alive, f"{name} exited:\n{process.said()}"
        return process

    def worker(self, concurrency: int = 32) -> Process:
        """`plait worker`, started (it has no HTTP to answer: it logs when it is ready)."""
        name = f"worker-{len(self.workers) + 1}"
        process = self._start(name, "worker", "--concurrency", str(concurrency), env=self.env)
        until(lambda: not process.alive or "executing" in process.said(), name, START_SECONDS)
        assert process.alive, f"{name} exited:\n{process.said()}"
        return process

    @property
    def servers(self) -> list[Process]:
        return [p for p in self.processes if p.url is not None]

    @property
    def workers(self) -> list[Process]:
        return [p for p in self.processes if p.url is None]

    def urls(self) -> list[str]:
        return [p.url for p in self.servers if p.url is not None]

    def admin(self, index: int = 0) -> httpx.Client:
        """A client signed in as the admin on server `index`: every client of a server
        shares one session (a plait process checks passwords at the production cost)."""
        url = self.urls()[index]
        if url not in self.sessions:
            self.sessions[url] = sign_in(url)
        return self.sessions[url].client()

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ---\n{p.said()}" for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.stop()
