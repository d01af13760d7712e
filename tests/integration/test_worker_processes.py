"""`plait serve --no-worker` and `plait worker` as real processes on one SQLite file: the
server only records and enqueues; the worker executes. A worker killed with SIGKILL mid-run
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

from tests.fakes.gemini import FakeGemini, Fault
from tests.helpers import until
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
        return httpx.get(f"{url}/api/health", timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_worker_killed_mid_run_is_replaced_and_nothing_finished_is_paid_again(
    tmp_path: Path, gemini_fake: FakeGemini, processes: list[subprocess.Popen[bytes]]
) -> None:
    env = _environment(tmp_path / "data", gemini_fake)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    serve_args = ("serve", "--no-worker", "--port", str(port), "--no-access-log")
    processes.append(_plait(*serve_args, env=env, log=tmp_path / "serve.log"))
    until(lambda: _up(url), "plait serve --no-worker to answer", 60)
    first = _plait("worker", "--concurrency", "4", env=env, log=tmp_path / "worker1.log")
    processes.append(first)

    gemini_fake.fail(Fault(), Fault.hang_for(60))  # the first image answers; the second hangs
    with httpx.Client(base_url=url, timeout=60) as client:
        login = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]
        flow = client.post("/api/flows", json={"document": TWO_IMAGES}).json()
        secret = client.post(f"/api/flows/{flow['id']}/publish", json={}).json()["secret"]
        accepted = client.post(
            f"/api/trigger/{secret}/trigger", params={"wait": "false"}, json={"prompt": "a"}
        )
        assert accepted.status_code == 202, accepted.text
        run_id = accepted.json()["run_id"]
        until(lambda: len(gemini_fake.generate_requests()) == 2, "the worker's second call", 60)

        first.send_signal(signal.SIGKILL)  # mid-run: the second image call is in flight
        first.wait(30)
        second_log = tmp_path / "worker2.log"
        processes.append(_plait("worker", env=env, log=second_log))

        def settled() -> bool:
            return bool(client.get(f"/api/runs/{run_id}").json()["status"] == "succeeded")

        until(settled, "the run to finish on the new worker", 90)
        run = client.get(f"/api/runs/{run_id}").json()

    calls = [r.body["contents"][0]["parts"][0]["text"] for r in gemini_fake.generate_requests()]
    assert calls == ["a", "the same, at night", "the same, at night"]  # "a" was paid once
    assert {n["node_id"]: n["status"] for n in run["nodes"]} == {
        "trigger": "succeeded",
        "first": "succeeded",
        "second": "succeeded",
        "respond": "succeeded",
    }
    said = second_log.read_text()
    assert f"resuming run {run_id}" in said
    assert "1 paid call(s) that were in flight on the previous owner run again (second)" in said
    serve_log = (tmp_path / "serve.log").read_text()
    assert "resuming run" not in serve_log  # the HTTP-only server executed nothing
