"""Secrets never reach logs, error messages, answers or the database.

One real server with every log captured (the root logger at DEBUG, uvicorn's access log on)
goes through a whole life: sign in, create, publish, call, rotate, make an API token, store
a Gemini key, fail a run, send invalid input built around each secret. Then every log
record, every answer and every row of every table is searched for each secret.
"""

from __future__ import annotations

import logging
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests import loopback
from tests.fakes.gemini import FakeGemini
from tests.helpers import stored_rows
from tests.integration.api import flows
from tests.server import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer, server_settings

GEMINI_KEY = "AIzaSy-the-users-own-key-do-not-log-Zq9"
CAPTURED = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "httpx", "httpx2")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != threading.main_thread().ident:  # the test's own client logs there
            self.records.append(record)

    def lines(self) -> list[str]:
        return [self.format(r) for r in self.records]


@contextmanager
def captured_logs() -> Iterator[Collect]:
    """Every record of every logger at DEBUG, including those that do not propagate (the
    server's, not the test's: its client runs on the main thread, the server never does)."""
    handler = Collect()
    loggers = [logging.getLogger(name) for name in CAPTURED]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def database_text(data_dir: Path) -> str:
    """Every value in every table, as text."""
    tables = stored_rows(data_dir)
    assert {"flows", "runs", "users"} <= set(tables), tables
    return repr(tables)


def files_text(data_dir: Path) -> str:
    """Every file under the data dir (database, WAL, blobs), bytes read as latin-1."""
    return "".join(p.read_bytes().decode("latin-1") for p in data_dir.rglob("*") if p.is_file())


def test_no_secret_reaches_a_log_an_answer_or_the_database(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    data_dir = tmp_path / "data"
    settings = server_settings(
        data_dir,
        PLAIT_BASE_URL=None,
        PLAIT_IMAGE_BACKEND=None,  # preview until a key is stored, then Gemini (the fake)
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    gemini_fake.api_key = "AIzaSy-a-different-key"  # so runs with the stored key fail
    answers: list[tuple[str, str]] = []  # (request, body)

    def record(response: httpx.Response) -> None:
        response.read()
        answers.append((f"{response.request.method} {response.request.url.path}", response.text))

    secrets: dict[str, str] = {"password": ADMIN_PASSWORD, "gemini key": GEMINI_KEY}
    shown_once: dict[str, str] = {}  # secret name -> the request whose answer shows it
    server = LiveServer(settings, log_level="debug")  # uvicorn's logging set-up happens here
    with (
        captured_logs() as logs,
        server,
        loopback.client(base_url=server.url, timeout=60) as client,
    ):
        client.event_hooks["response"] = [record]
        login = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert login.status_code == 200
        secrets["session cookie"] = login.cookies["plait_session"]
        client.headers["X-CSRF-Token"] = login.json()["csrf_token"]

        flow_id = flows.create(client, flows.image_endpoint())
        secrets["trigger secret"] = flows.publish(client, flow_id)["secret"]
        shown_once["trigger secret"] = f"POST /api/flows/{flow_id}/publish"
        call = f"/api/trigger/{secrets['trigger secret']}/trigger"
        assert client.post(call, json={"prompt": "a kite"}).status_code == 200

        rotated = client.post(f"/api/flows/{flow_id}/rotate-secret", json={})
        assert rotated.status_code == 200
        secrets["rotated secret"] = rotated.json()["secret"]
        shown_once["rotated secret"] = f"POST /api/flows/{flow_id}/rotate-secret"
        call = f"/api/trigger/{secrets['rotated secret']}/trigger"
        assert client.post(call, json={"prompt": "a boat"}).status_code == 200

        token = client.post("/api/tokens", json={"name": "ci"})
        secrets["api token"] = token.json()["token"]
        shown_once["api token"] = "POST /api/tokens"
        bearer = {"Authorization": f"Bearer {secrets['api token']}"}
        assert client.get("/api/flows", headers=bearer).status_code == 200
        assert client.get("/api/tokens").status_code == 200
        for page in ("", "/publication", "/examples", "/openapi.json", "/versions"):
            assert client.get(f"/api/flows/{flow_id}{page}").status_code == 200, page

        stored = client.put("/api/settings/gemini-key", json={"key": GEMINI_KEY})
        assert stored.json()["gemini_key"]["source"] == "stored"
        failed = client.post(call, json={"prompt": "a failing run"})
        assert failed.status_code == 502  # Gemini refused the key: the set-up, not the caller
        assert "API key not valid" in failed.json()["detail"]
        client.get(f"/api/runs/{failed.json()['run_id']}").raise_for_status()

        # Invalid input built around each secret is refused without echoing it.
        too_long = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD + "x" * 1100}
        assert client.post("/api/auth/login", json=too_long).status_code == 422
        wrong = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD + "!"}
        assert client.post("/api/auth/login", json=wrong).status_code == 401
        long_key = {"key": GEMINI_KEY * 20}
        assert client.put("/api/settings/gemini-key", json=long_key).status_code == 422
        typo = {"Authorization": f"Bearer {secrets['api token']}x"}
        assert client.get("/api/flows", headers=typo).status_code == 401
        wrong_node = f"/api/trigger/{secrets['rotated secret']}/nope"
        assert client.post(wrong_node, json={}).status_code == 404
        assert client.post(f"{call}?wait=maybe", json={}).status_code == 422
        secrets["callback token"] = "cb-token-" + "q" * 24
        hook = f"http://127.0.0.1:9/hook?token={secrets['callback token']}"
        with_callback = client.post(call, params={"callback_url": hook}, json={"prompt": "x"})
        assert with_callback.status_code == 422  # loopback: refused, yet its request is logged
        assert client.post("/api/auth/logout").status_code == 204

    lines = logs.lines()
    access = [line for line in lines if line.startswith("uvicorn.access")]
    assert any("/api/trigger/***/trigger" in line for line in access), access[:5]
    assert any(r.levelno == logging.DEBUG for r in logs.records)  # DEBUG was really on
    everything_logged = "\n".join(lines)
    stored_text = database_text(data_dir)
    on_disk = files_text(data_dir)
    for name, secret in secrets.items():
        assert secret not in everything_logged, f"the {name} is in the logs"
        assert secret not in stored_text, f"the {name} is in the database"
        assert secret not in on_disk, f"the {name} is in a file in the data dir"
        showing = [request for request, body in answers if secret in body]
        expected = [shown_once[name]] if name in shown_once else []
        assert showing == expected, f"the {name} is in the answers to {showing}"


def test_the_data_dir_is_the_owners_alone(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)  # an existing, too open one is tightened too
    sqlite = f"sqlite+aiosqlite:///{data_dir / 'plait.db'}"  # the file in the data dir
    settings = server_settings(data_dir, PLAIT_DATABASE_URL=sqlite)
    with LiveServer(settings) as server, server.admin() as admin:
        assert admin.get("/api/flows").status_code == 200
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    for name in ("plait.db", "plait.db-wal", "plait.db-shm", "secret.key"):
        path = data_dir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name
    assert (data_dir / "plait.db").exists()
