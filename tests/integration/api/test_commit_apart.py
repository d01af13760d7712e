"""`create_app(commit_apart=True)`, the default `plait serve` runs: the server commits its
SQLite journal in a child process. The other in-thread test servers commit in the writer
thread (`tests/server.py`); this file keeps the child's path covered in a live server."""

from __future__ import annotations

import os
from pathlib import Path

from tests.integration.api import flows
from tests.server import LiveServer, server_settings


def _settings(data_dir: Path) -> dict[str, str]:
    """A SQLite file even under PLAIT_TEST_DATABASE=postgres: only SQLite has the child."""
    return {"PLAIT_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'plait.db'}"}


def test_a_server_commits_its_runs_in_its_child_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    settings = server_settings(data_dir, **_settings(data_dir))
    with LiveServer(settings, commit_apart=True) as live, live.admin() as admin:
        flow_id = flows.create(admin, flows.echo("apart"))
        secret = flows.publish(admin, flow_id)["secret"]
        answers = [
            admin.post(f"/api/trigger/{secret}/trigger", json={"prompt": f"call {i}"})
            for i in range(3)
        ]
        committer = live.app.state.plait.runtime.db.committer
        child = committer.pid if committer is not None else None
        assert child is not None, "the server started no commit process"
        assert child != os.getpid()
        os.kill(child, 0)  # alive while the server serves
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["prompt"] for a in answers] == ["call 0", "call 1", "call 2"]
    assert committer.pid is None  # stopped with the server
    # what the child committed is in the file: a server on it now lists the three runs
    with LiveServer(settings) as again, again.admin() as admin:
        runs = admin.get("/api/runs", params={"flow_id": flow_id}).json()
        assert again.app.state.plait.runtime.db.committer is None  # the writer thread's
    assert sorted(run["status"] for run in runs) == ["succeeded"] * 3
