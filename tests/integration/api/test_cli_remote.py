"""`plait flows ...` against a real server, with an API token."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.helpers import EXAMPLES
from tests.integration.test_cli import plait
from tests.server import LiveServer


def test_push_publish_roll_back_and_pull(
    server: LiveServer, admin: httpx.Client, tmp_path: Path
) -> None:
    token = admin.post("/api/tokens", json={"name": "cli"}).json()["token"]
    env = {"PLAIT_URL": server.url, "PLAIT_TOKEN": token}
    first = tmp_path / "flow.json"
    document = json.loads((EXAMPLES / "product-shot.json").read_text())
    first.write_text(json.dumps(document))
    pushed = plait("flows", "push", str(first), "--publish", cwd=tmp_path, env=env)
    assert pushed.returncode == 0, pushed.stderr
    flow_id, url = pushed.stdout.split()
    assert url.startswith(f"{server.url}/api/trigger/")
    assert "shown only this once" in pushed.stderr
    document["description"] = "changed"
    first.write_text(json.dumps(document))
    again = plait("flows", "push", str(first), "--id", flow_id, cwd=tmp_path, env=env)
    assert "version 2" in again.stderr
    listed = plait("flows", "list", cwd=tmp_path, env=env)
    assert f"{flow_id}  v2  published: 1  Product shot" in listed.stdout
    published = plait("flows", "publish", flow_id, "--version", "2", cwd=tmp_path, env=env)
    assert "serves version 2" in published.stderr
    assert "<SECRET>" in published.stdout  # the secret is not shown again
    pulled = plait("flows", "pull", flow_id, "--version", "1", cwd=tmp_path, env=env)
    assert json.loads(pulled.stdout)["description"] != "changed"


def test_clear_errors_without_a_token_or_with_a_bad_one(server: LiveServer, tmp_path: Path) -> None:
    missing = plait("flows", "list", cwd=tmp_path, env={"PLAIT_URL": server.url})
    assert missing.returncode == 1
    assert "PLAIT_TOKEN" in missing.stderr
    wrong = plait("flows", "list", cwd=tmp_path, env={"PLAIT_URL": server.url, "PLAIT_TOKEN": "x"})
    assert wrong.returncode == 1
    assert "HTTP 401" in wrong.stderr
    assert "Traceback" not in wrong.stderr
