"""`plait serve` processes started together on one fresh database all come up (the
migrations take turns, one admin is made), on PostgreSQL and on one SQLite file; off
local SQLite, a server without PLAIT_SECRET_KEY refuses to start, saying how to make one."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg

from tests import loopback
from tests.server import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.services import free_port

_START_SECONDS = 90


def _environment(data_dir: Path, **more: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_", "GOOGLE_API"))
    }
    env.update(
        PLAIT_DATA_DIR=str(data_dir),
        PLAIT_IMAGE_BACKEND="preview",
        PLAIT_ADMIN_EMAIL=ADMIN_EMAIL,
        PLAIT_ADMIN_PASSWORD=ADMIN_PASSWORD,
        PYTHONUNBUFFERED="1",
        **more,
    )
    return env


@contextlib.contextmanager
def _servers(envs: list[dict[str, str]], tmp_path: Path) -> Iterator[list[str]]:
    """`plait serve` once per environment, all started at once; their URLs once each
    answers /api/health."""
    started: list[tuple[subprocess.Popen[bytes], str, Path]] = []
    try:
        for n, env in enumerate(envs):
            port = free_port()
            log = tmp_path / f"serve{n}.log"
            with log.open("wb") as out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "plait", "serve", "--port", str(port)],
                    cwd=tmp_path,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started.append((process, f"http://127.0.0.1:{port}", log))
        for process, url, log in started:
            _wait_healthy(process, url, log)
        yield [url for _, url, _ in started]
    finally:
        for process, _, _ in started:
            process.terminate()
        for process, _, _ in started:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"plait serve exited with {process.returncode}:\n"
                                 f"{log.read_text(errors='replace')}")  # fmt: skip
        with contextlib.suppress(httpx.TransportError):
            if loopback.get(f"{url}/api/health", timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise AssertionError(f"plait serve did not answer /api/health:\n{log.read_text()}")


def _database_is_ready(url: str) -> None:
    with loopback.client(base_url=url, timeout=30) as client:
        health = client.get("/api/health").json()
        assert health["checks"]["database"]["ok"] is True
        login = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        assert client.post("/api/auth/login", json=login).status_code == 200


def test_two_servers_started_together_on_a_fresh_postgres_both_answer(
    tmp_path: Path, postgres_url: str
) -> None:
    shared = {"PLAIT_DATABASE_URL": postgres_url, "PLAIT_SECRET_KEY": "shared-test-key"}
    envs = [_environment(tmp_path / name, **shared) for name in ("a", "b")]
    with _servers(envs, tmp_path) as urls:
        for url in urls:
            _database_is_ready(url)
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)


def test_two_servers_started_together_on_one_fresh_sqlite_file_both_answer(
    tmp_path: Path,
) -> None:
    envs = [_environment(tmp_path / "data") for _ in range(2)]
    with _servers(envs, tmp_path) as urls:
        for url in urls:
            _database_is_ready(url)


def test_a_server_off_local_sqlite_needs_plait_secret_key(
    tmp_path: Path, postgres_url: str
) -> None:
    env = _environment(tmp_path / "data", PLAIT_DATABASE_URL=postgres_url)
    done = subprocess.run(
        [sys.executable, "-m", "plait", "serve", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "PLAIT_SECRET_KEY is required" in done.stderr
    assert "secrets.token_urlsafe" in done.stderr  # how to make one
    assert not (tmp_path / "data" / "secret.key").exists()
