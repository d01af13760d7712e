"""Two `plait serve` processes on one SQLite file and one Redis (their job queue too): a
run executing in either is followed live from both — so from one that does not execute
it, across a process boundary — and cancelled (`test_signals_across_servers.py` shows
each with two servers in this test's process, where it can tell which executes a run)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.fakes.gemini import FakeGemini, Fault
from tests.integration.api import flows
from tests.integration.api.test_signals_across_servers import (
    WAIT,
    Stream,
    start_run,
    status,
    until,
)
from tests.server import ADMIN_EMAIL, ADMIN_PASSWORD, admin_client
from tests.services import free_port


def answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


@contextmanager
def plait_serve(data_dir: Path, **settings: str) -> Iterator[str]:
    """`plait serve` in a process of its own on a free port; its URL once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_"))}
    env |= {
        "PLAIT_DATA_DIR": str(data_dir),
        "PLAIT_BASE_URL": url,
        "PLAIT_ADMIN_EMAIL": ADMIN_EMAIL,
        "PLAIT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PLAIT_SECRET_KEY": "test-master-key",
        **settings,
    }
    command = [sys.executable, "-m", "plait", "serve", "--port", str(port), "--no-access-log"]
    log = data_dir.parent / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        until(lambda: process.poll() is not None or answers(url), f"{url} answers")
        assert process.poll() is None, log.read_text(errors="replace")
        yield url
    finally:
        process.terminate()
        process.wait(WAIT)


def test_a_run_in_one_process_is_followed_live_from_both_and_cancelled(
    tmp_path: Path, redis_url: str, gemini_fake: FakeGemini
) -> None:
    hanging = threading.Event()
    gemini_fake.on_hang = hanging.set
    gemini_fake.fail(Fault.hang_for(WAIT * 2))
    data = tmp_path / "data"
    data.mkdir()
    settings = {
        "PLAIT_REDIS_URL": redis_url,
        "PLAIT_IMAGE_BACKEND": "gemini",
        "GEMINI_API_KEY": "k",
        "PLAIT_GEMINI_BASE_URL": gemini_fake.base_url,
    }
    with (
        plait_serve(data, **settings) as a,
        plait_serve(data, **settings) as b,
        admin_client(a) as on_a,
        admin_client(b) as on_b,
    ):
        run_id = start_run(on_a, flows.create(on_a, flows.image_endpoint()))
        assert hanging.wait(WAIT)
        streams = [Stream(a, run_id), Stream(b, run_id)]  # one of them is relayed
        for stream in streams:
            stream.until("node_started", "image")
            assert ("node_finished", "trigger") in stream.kinds()
        assert status(on_a, run_id) == "running"
        cancel = on_b.post(f"/api/runs/{run_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        for stream in streams:
            assert stream.until("run_finished")["status"] == "cancelled"
        assert status(on_a, run_id) == "cancelled"
