"""`plait serve --no-worker` and `plait worker` as real processes on one database (a SQLite
file and the database queue; PostgreSQL and SAQ on Redis): the server only records and
enqueues; the worker executes. A worker killed with SIGKILL mid-run
is replaced: the new one takes the run over once its lease expires and finishes it
without paying again for the node that had finished (counted at the fake Gemini); the one
call that was in flight on the dead worker is the only repeat, and the worker says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests import loopback
from tests.fakes.gemini import FakeGemini, Fault
from tests.helpers import until
from tests.integration.api import flows
from tests.integration.api.test_recovery import TWO_IMAGES
from tests.server import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.services import free_port


def _environment(data_dir: Path, fake: FakeGemini) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_"))}
    return env | {
        "PLAIT_DATA_DIR": str(data_dir),
        "PLAIT_SECRET_KEY": "test-master-key",
        "PLAIT_ADMIN_EMAIL": ADMIN_EMAIL,
        "PLAIT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PLAIT_IMAGE_BACKEND": "gemini",
        "GEMINI_API_KEY": "k",
        "PLAIT_GEMINI_BASE_URL": fake.base_url,
        "PLAIT_LEASE_SECONDS": "2",  # a dead worker's runs are free 2 s after its last beat
        "PLAIT_WORKER_POLL": "0.1",
    }


def _plait(*args: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "plait", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )


@pytest.fixture(params=["sqlite", "postgresql+redis"])
def shared(request: pytest.FixtureRequest) -> dict[str, str]:
    """What the processes share besides the data dir: nothing more (SQLite, the database
    queue), or PostgreSQL and Redis (SAQ)."""
    if request.param == "sqlite":
        return {}
    return {
        "PLAIT_DATABASE_URL": request.getfixturevalue("postgres_url"),
        "PLAIT_REDIS_URL": request.getfixturevalue("redis_url"),
    }


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()


def _up(url: str) -> bool:
    try:
        return loopback.get(f"{url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


class Cluster:
    """`plait serve --no-worker` on a free port and `plait worker` processes, one data dir."""

    def __init__(
        self,
        tmp_path: Path,
        fake: FakeGemini,
        started: list[subprocess.Popen[bytes]],
        shared: dict[str, str] | None = None,
    ):
        self.tmp_path = tmp_path
        self.env = _environment(tmp_path / "data", fake) | (shared or {})
        self.started = started
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        serve = ("serve", "--no-worker", "--port", str(port), "--no-access-log")
        self.serve_log = tmp_path / "serve.log"
        started.append(_plait(*serve, env=self.env, log=self.serve_log))
        until(lambda: _up(self.url), "plait serve --no-worker to answer", 60)

    def worker(self, name: str, *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.tmp_path / f"{name}.log"
        process = _plait("worker", *args, env=self.env, log=log)
        self.started.append(process)
        return process, log

    def admin(self) -> httpx.Client:
        credentials = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        with loopback.client(base_url=self.url, timeout=60) as login:
            answer = login.post("/api/auth/login", json=credentials)
            answer.raise_for_status()
        token = answer.json()["csrf_token"]
        return loopback.client(
            base_url=self.url, timeout=60, cookies=answer.cookies, headers={"X-CSRF-Token": token}
        )


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(30)


def _prompts(fake: FakeGemini) -> list[str]:
    return [r.body["contents"][0]["parts"][0]["text"] for r in fake.generate_requests()]


def test_a_worker_killed_mid_run_is_replaced_and_nothing_finished_is_paid_again(
    tmp_path: Path,
    gemini_fake: FakeGemini,
    shared: dict[str, str],  # before `processes`: they stop before its database is dropped
    processes: list[subprocess.Popen[bytes]],
) -> None:
    """With Redis, the killed worker's SAQ job is still held under the run's id: the new
    worker's lease reaper replaces it as soon as the run's lease expired (`requeue`)."""
    cluster = Cluster(tmp_path, gemini_fake, processes, shared)
    gemini_fake.fail(Fault(), Fault.hang_for(60))  # the first image answers; the second hangs
    with cluster.admin() as client:
        flow = client.post("/api/flows", json={"document": TWO_IMAGES}).json()
        secret = client.post(f"/api/flows/{flow['id']}/publish", json={}).json()["secret"]
        accepted = client.post(
            f"/api/trigger/{secret}/trigger", params={"wait": "false"}, json={"prompt": "a"}
        )
        assert accepted.status_code == 202, accepted.text
        run_id = accepted.json()["run_id"]
        assert client.get(f"/api/runs/{run_id}").json()["status"] == "queued"  # HTTP only
        first, _ = cluster.worker("worker1", "--concurrency", "4")
        until(lambda: len(gemini_fake.generate_requests()) == 2, "the worker's second call", 60)

        def first_recorded() -> bool:
            nodes = client.get(f"/api/runs/{run_id}").json()["nodes"]
            return any(n["node_id"] == "first" and n["status"] == "succeeded" for n in nodes)

        until(first_recorded, "the first image's checkpoint", 60)
        _kill(first)  # mid-run: the second image call is in flight
        _, second_log = cluster.worker("worker2")

        def settled() -> bool:
            return bool(client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded")

        until(settled, "the run to finish on the new worker", 150)
        run = client.get(f"/api/runs/{run_id}").json()

    # "a" was paid once; the call in flight on the dead worker is the one repeat
    assert _prompts(gemini_fake) == ["a", "the same, at night", "the same, at night"]
    assert {n["node_id"]: n["status"] for n in run["nodes"]} == {
        "trigger": "succeeded",
        "first": "succeeded",
        "second": "succeeded",
        "respond": "succeeded",
    }
    said = second_log.read_text()
    assert f"resuming run {run_id}" in said
    assert "1 paid call(s) that were in flight on the previous owner run again (second)" in said
    assert "resuming run" not in cluster.serve_log.read_text()  # HTTP only: it executed nothing


def test_a_batch_whose_worker_was_killed_is_taken_over_and_finished(
    tmp_path: Path, gemini_fake: FakeGemini, processes: list[subprocess.Popen[bytes]]
) -> None:
    cluster = Cluster(tmp_path, gemini_fake, processes)
    first, _ = cluster.worker("worker1")
    gemini_fake.fail(Fault(), Fault.hang_for(60))  # row 1 answers; row 2 hangs
    with cluster.admin() as client:
        batch_id = flows.image_batch(client, ["one", "two", "three"], concurrency=1)
        until(lambda: len(gemini_fake.generate_requests()) == 2, "row 2's image call", 60)

        def row_one_recorded() -> bool:
            counts = client.get(f"/api/batches/{batch_id}").json()["counts"]
            return bool(counts["succeeded"] == 1)

        until(row_one_recorded, "row 1 to be recorded", 60)  # its call is no longer in flight
        _kill(first)  # row 2's call is
        cluster.worker("worker2")

        def finished() -> bool:
            return bool(client.get(f"/api/batches/{batch_id}").json()["state"] == "finished")

        until(finished, "the batch to finish on the new worker", 90)
        summary = client.get(f"/api/batches/{batch_id}").json()
    assert summary["counts"]["succeeded"] == 3
    assert _prompts(gemini_fake) == ["one", "two", "two", "three"]  # row 1 was not run again
