"""A real Plait server for tests: uvicorn on a free loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from plait.api import create_app
from plait.settings import Settings
from tests import loopback

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery"

# Set by tests/conftest.py when PLAIT_TEST_DATABASE=postgres: the database URL of a data dir
database_for: Callable[[Path], str] | None = None


def server_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings from explicit values only: the environment and `.env` are ignored."""
    values: dict[str, Any] = {
        "PLAIT_DATA_DIR": str(data_dir),
        "PLAIT_IMAGE_BACKEND": "preview",
        "PLAIT_ADMIN_EMAIL": ADMIN_EMAIL,
        "PLAIT_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PLAIT_SECRET_KEY": "test-master-key",
        **overrides,
    }
    if database_for is not None and "PLAIT_DATABASE_URL" not in overrides:
        values["PLAIT_DATABASE_URL"] = database_for(data_dir)
    return Settings(_env_file=None, **{k: v for k, v in values.items() if v is not None})


class LiveServer:
    def __init__(
        self, settings: Settings, log_level: str = "warning", *, commit_apart: bool = False
    ):
        """`log_level="info"` or lower also writes uvicorn's access log. `commit_apart`:
        SQLite commits in the server's child process, as `plait serve` does (off by default:
        a fresh interpreter per server is most of a small test's CPU; the servers the tests
        start as processes, and `test_commit_process`, keep the child)."""
        self.settings = settings
        self.app = create_app(settings, commit_apart=commit_apart)
        config = uvicorn.Config(
            self.app, host="127.0.0.1", port=0, log_level=log_level, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.url = ""

    def _serve(self) -> None:
        with contextlib.suppress(SystemExit):  # a failed start-up; __enter__ reports it
            asyncio.run(self._server.serve())

    def __enter__(self) -> LiveServer:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            self._thread.join(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(30)

    def client(self, **kwargs: Any) -> httpx.Client:
        return loopback.client(base_url=self.url, timeout=60, **kwargs)

    def admin(self) -> httpx.Client:
        """A client signed in as the admin with a session cookie, sending the CSRF header."""
        return admin_client(self.url)


@dataclass(frozen=True)
class SignedIn:
    """The admin's session on the server at `url`: its cookie and CSRF token."""

    url: str
    cookies: httpx.Cookies
    csrf_token: str

    def client(self) -> httpx.Client:
        """A new client in this session (session cookie, CSRF header)."""
        return loopback.client(
            base_url=self.url,
            timeout=60,
            cookies=self.cookies,
            headers={"X-CSRF-Token": self.csrf_token},
        )


def sign_in(url: str) -> SignedIn:
    """Sign in as the admin on the server at `url` (one password check)."""
    with loopback.client(base_url=url, timeout=60) as login:
        account = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        answer = login.post("/api/auth/login", json=account)
        answer.raise_for_status()
    return SignedIn(url, answer.cookies, answer.json()["csrf_token"])


def admin_client(url: str) -> httpx.Client:
    """A client of the server at `url` signed in as the admin (session cookie, CSRF header)."""
    return sign_in(url).client()
