"""The Gemini key: stored encrypted, write-only, used by runs; errors from Gemini reach callers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.gemini import FakeGemini, Fault
from tests.integration.api import flows
from tests.server import LiveServer, server_settings

KEY = "AIzaSy-stored-key-for-tests-7Q2w"


@pytest.fixture
def gemini_server(tmp_path: Path, gemini_fake: FakeGemini) -> Iterator[LiveServer]:
    gemini_fake.api_key = KEY
    settings = server_settings(
        tmp_path / "data",
        PLAIT_IMAGE_BACKEND=None,
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    with LiveServer(settings) as live:
        live.settings.base_url = live.url
        yield live


def _database_text(data_dir: Path) -> str:
    """Every value in every table, as text (the WAL is checkpointed first)."""
    with sqlite3.connect(data_dir / "plait.db") as db:
        db.execute("PRAGMA wal_checkpoint(FULL)")
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        rows = [db.execute(f"SELECT * FROM {t}").fetchall() for t in tables]
    return repr(rows)


def test_a_stored_key_is_encrypted_write_only_and_used_by_runs(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    seen: list[str] = []
    admin = gemini_server.admin()
    admin.event_hooks["response"] = [lambda r: seen.append(r.read().decode(errors="replace"))]
    before = admin.get("/api/settings").json()
    mcp_url = f"{gemini_server.url}/mcp"
    assert before == {
        "backend": "preview",
        "gemini_key": {"source": None, "hint": None},
        "mcp_url": mcp_url,
    }
    stored = admin.put("/api/settings/gemini-key", json={"key": KEY}).json()
    assert stored == {
        "backend": "gemini",
        "gemini_key": {"source": "stored", "hint": "…" + KEY[-4:]},
        "mcp_url": mcp_url,
    }
    secret = flows.publish(admin, flows.create(admin, flows.image_endpoint()))["secret"]
    with gemini_server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "a teapot"})
    assert answer.status_code == 200, answer.text
    [request] = gemini_fake.generate_requests()
    assert request.headers["x-goog-api-key"] == KEY
    assert request.model == "gemini-2.5-flash-image"
    runs = admin.get("/api/runs").json()
    assert runs[0]["backend"] == "gemini"
    assert 0.039 <= runs[0]["cost_usd"] < 0.040  # one image, plus the prompt's tokens
    data_dir = Path(gemini_server.settings.data_dir)
    assert KEY not in _database_text(data_dir)
    assert KEY not in (data_dir / "plait.db").read_bytes().decode("latin-1")
    assert all(KEY not in body for body in seen)
    assert admin.delete("/api/settings/gemini-key").json()["backend"] == "preview"
    admin.close()


def test_the_stored_key_survives_a_restart(tmp_path: Path, gemini_fake: FakeGemini) -> None:
    settings = server_settings(tmp_path, PLAIT_IMAGE_BACKEND=None)
    with LiveServer(settings) as first, first.admin() as admin:
        admin.put("/api/settings/gemini-key", json={"key": KEY}).raise_for_status()
    again = server_settings(tmp_path, PLAIT_IMAGE_BACKEND=None)
    with LiveServer(again) as second, second.admin() as admin:
        assert admin.get("/api/settings").json()["gemini_key"]["source"] == "stored"
    wrong_master = server_settings(tmp_path, PLAIT_IMAGE_BACKEND=None, PLAIT_SECRET_KEY="other")
    with pytest.raises(RuntimeError), LiveServer(wrong_master):
        pass  # a changed master key is a clear start-up failure, not a silent preview


def test_a_blocked_prompt_fails_the_call_naming_the_node(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    with gemini_server.admin() as admin:
        admin.put("/api/settings/gemini-key", json={"key": KEY}).raise_for_status()
        secret = flows.publish(admin, flows.create(admin, flows.image_endpoint()))["secret"]
        gemini_fake.fail(Fault.blocked("PROHIBITED_CONTENT"))
        with gemini_server.client() as caller:
            answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"})
        assert answer.status_code == 422  # the flow's input: the prompt must change
        assert answer.json()["node_id"] == "image"
        assert "PROHIBITED_CONTENT" in answer.json()["detail"]
        run = admin.get(f"/api/runs/{answer.json()['run_id']}").json()
        assert run["error_category"] == "input"
        image = next(n for n in run["nodes"] if n["node_id"] == "image")
        assert image["status"] == "failed"
        assert "PROHIBITED_CONTENT" in image["error"]
        respond = next(n for n in run["nodes"] if n["node_id"] == "respond")
        assert respond["status"] == "skipped"


def test_cancelling_a_running_run_stops_it(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    with gemini_server.admin() as admin:
        admin.put("/api/settings/gemini-key", json={"key": KEY}).raise_for_status()
        gemini_fake.fail(Fault.hang_for(120))
        flow_id = flows.create(admin, flows.image_endpoint())
        run_id = admin.post(
            f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "slow"}}
        ).json()["run_id"]
        deadline = time.monotonic() + 30
        while not gemini_fake.generate_requests():
            assert time.monotonic() < deadline, "the image call never started"
        assert admin.post(f"/api/runs/{run_id}/cancel").json()["status"] == "cancelling"
        while (run := admin.get(f"/api/runs/{run_id}").json())["status"] == "running":
            assert time.monotonic() < deadline, "the run did not stop"
    assert run["status"] == "cancelled"
    nodes = {n["node_id"]: n["status"] for n in run["nodes"]}
    assert nodes == {"trigger": "succeeded", "image": "cancelled", "respond": "cancelled"}
