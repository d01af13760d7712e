"""`plait flows ...` against a real server, with an API token."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from tests.helpers import EXAMPLES
from tests.integration.test_cli import plait
from tests.server import LiveServer


def _cli(server: LiveServer, admin: httpx.Client) -> dict[str, str]:
    """The environment `plait flows` needs: the server and a new API token."""
    token = admin.post("/api/tokens", json={"name": "cli"}).json()["token"]
    return {"PLAIT_URL": server.url, "PLAIT_TOKEN": token}


def _flow_file(folder: Path) -> tuple[Path, dict[str, Any]]:
    """The product-shot example written to `folder`, and its document."""
    file = folder / "flow.json"
    document = json.loads((EXAMPLES / "product-shot.json").read_text())
    file.write_text(json.dumps(document))
    return file, document


def test_push_publish_roll_back_and_pull(
    server: LiveServer, admin: httpx.Client, tmp_path: Path
) -> None:
    env = _cli(server, admin)
    first, document = _flow_file(tmp_path)
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


def test_pushing_the_same_file_again_updates_its_flow(
    server: LiveServer, admin: httpx.Client, tmp_path: Path
) -> None:
    env = _cli(server, admin)
    file, document = _flow_file(tmp_path)
    first = plait("flows", "push", str(file), "--publish", cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    flow_id, _url = first.stdout.split()
    assert json.loads(file.read_text()) == {"format": 1, "id": flow_id, **document}
    again = plait("flows", "push", str(file), "--publish", cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.split()[0] == flow_id
    assert "shown only this once" not in again.stderr  # the same secret still serves
    assert [f["id"] for f in admin.get("/api/flows").json()] == [flow_id]
    stored = admin.get(f"/api/flows/{flow_id}").json()
    assert (stored["version"], "id" in stored["document"]) == (1, False)  # unchanged content
    pulled = plait("flows", "pull", flow_id, cwd=tmp_path, env=env)
    assert json.loads(pulled.stdout)["id"] == flow_id

    # A file kept in git names its flow; CI's first push to a new server creates it.
    kept = tmp_path / "kept.json"
    kept.write_text(json.dumps({**document, "id": "product-shot"}))
    for round_ in (1, 2):
        kept_doc = json.loads(kept.read_text())
        kept_doc["description"] = f"round {round_}"
        kept.write_text(json.dumps(kept_doc))
        pushed = plait("flows", "push", str(kept), "--publish", cwd=tmp_path, env=env)
        assert pushed.returncode == 0, pushed.stderr
        assert pushed.stdout.split()[0] == "product-shot"
        assert f"serves version {round_}" in pushed.stderr
    assert sorted(f["id"] for f in admin.get("/api/flows").json()) == sorted(
        [flow_id, "product-shot"]
    )
    taken = admin.post("/api/flows", json={"document": {**document, "id": "product-shot"}})
    assert taken.status_code == 409


def test_publish_with_mcp_offers_the_flow_as_a_tool_and_no_mcp_withdraws_it(
    server: LiveServer, admin: httpx.Client, tmp_path: Path
) -> None:
    env = _cli(server, admin)
    file, _ = _flow_file(tmp_path)
    pushed = plait("flows", "push", str(file), "--publish", cwd=tmp_path, env=env)
    flow_id = pushed.stdout.split()[0]
    assert admin.get(f"/api/flows/{flow_id}/publication").json()["mcp"] is False
    offered = plait("flows", "publish", flow_id, "--mcp", cwd=tmp_path, env=env)
    assert offered.returncode == 0, offered.stderr
    assert "offered to MCP clients at /mcp" in offered.stderr
    assert admin.get(f"/api/flows/{flow_id}/publication").json()["mcp"] is True
    kept = plait("flows", "publish", flow_id, cwd=tmp_path, env=env)  # unchanged when not said
    assert kept.returncode == 0, kept.stderr
    assert admin.get(f"/api/flows/{flow_id}/publication").json()["mcp"] is True
    withdrawn = plait("flows", "publish", flow_id, "--no-mcp", cwd=tmp_path, env=env)
    assert "not offered to MCP" in withdrawn.stderr
    assert admin.get(f"/api/flows/{flow_id}/publication").json()["mcp"] is False
