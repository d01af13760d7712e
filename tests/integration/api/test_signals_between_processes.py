"""Two `plait serve` processes on one SQLite file and one Redis: a run executing in one is
followed live and cancelled from the other, across a process boundary (the same as
`test_signals_across_servers.py` shows with two servers in this test's process)."""

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


def test_a_run_in_one_process_is_followed_and_cancelled_from_another(
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
        stream = Stream(b, run_id)
        stream.until("node_started", "image")
        assert status(on_a, run_id) == "running"
        assert ("node_finished", "trigger") in stream.kinds()
        cancel = on_b.post(f"/api/runs/{run_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        assert stream.until("run_finished")["status"] == "cancelled"
        assert status(on_b, run_id) == "cancelled"
