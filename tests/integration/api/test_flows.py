"""Flows and versions: immutable saves, listing, diff, restore, delete, validation, catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.fakes.gemini import FakeGemini, ModelListing
from tests.integration.api import flows
from tests.server import LiveServer, server_settings

SHARED_SERVER = True  # each test makes, and looks only at, its own flows (or has its own server)


def test_each_changed_save_is_a_new_immutable_version(own_admin: httpx.Client) -> None:
    admin = own_admin  # the flows list below is this server's whole list
    flow_id = flows.create(admin, flows.echo("v1"))
    same = admin.put(f"/api/flows/{flow_id}", json={"document": flows.echo("v1")}).json()
    assert same["version"] == 1  # identical content makes no version
    changed = admin.put(f"/api/flows/{flow_id}", json={"document": flows.echo("v2")}).json()
    assert changed["version"] == 2
    versions = admin.get(f"/api/flows/{flow_id}/versions").json()
    assert [v["number"] for v in versions] == [2, 1]
    assert versions[0]["created_by"] == "admin@example.com"
    first = admin.get(f"/api/flows/{flow_id}/versions/1").json()
    assert first["document"]["nodes"][1]["config"]["fields"][1]["value"] == "v1"
    assert admin.get(f"/api/flows/{flow_id}/versions/9").status_code == 404
    listed = admin.get("/api/flows").json()
    assert [(f["id"], f["version"], f["name"]) for f in listed] == [(flow_id, 2, "Echo v2")]


def test_diff_names_added_removed_and_changed_nodes(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo("v1"))
    second = flows.echo("v2")
    second["nodes"].append({"id": "note", "type": "text", "config": {"template": "hi"}})
    admin.put(f"/api/flows/{flow_id}", json={"document": second}).raise_for_status()
    diff = admin.get(f"/api/flows/{flow_id}/diff", params={"a": 1, "b": 2}).json()
    assert diff["nodes"]["added"] == ["note"]
    assert diff["nodes"]["removed"] == []
    [changed] = diff["nodes"]["changed"]
    assert changed["id"] == "respond"
    assert changed["changes"] == [{"path": "config.fields", "before": [
        {"name": "prompt"}, {"name": "label", "value": "v1"}], "after": [
        {"name": "prompt"}, {"name": "label", "value": "v2"}]}]  # fmt: skip
    assert diff["edges"] == {"added": [], "removed": []}


def test_restore_saves_an_old_version_as_the_newest(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo("v1"))
    admin.put(f"/api/flows/{flow_id}", json={"document": flows.echo("v2")}).raise_for_status()
    restored = admin.post(f"/api/flows/{flow_id}/versions/1/restore").json()
    assert restored["version"] == 3
    assert restored["document"] == admin.get(f"/api/flows/{flow_id}/versions/1").json()["document"]


def test_a_malformed_document_is_refused_with_each_problem(admin: httpx.Client) -> None:
    answer = admin.post("/api/flows", json={"document": {"nodes": [{"id": "1bad", "type": "x"}]}})
    assert answer.status_code == 422
    assert any("nodes.0.id" in e["message"] for e in answer.json()["errors"])


def test_publishing_an_invalid_version_is_refused(admin: httpx.Client) -> None:
    broken = flows.echo()
    broken["edges"].append({"from": "trigger.nothing", "to": "respond.prompt"})
    flow_id = flows.create(admin, broken)  # drafts may be incomplete
    answer = admin.post(f"/api/flows/{flow_id}/publish", json={})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["node_id"] == "trigger"


def test_deleting_a_flow_stops_its_trigger(server: LiveServer, admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    secret = flows.publish(admin, flow_id)["secret"]
    assert admin.delete(f"/api/flows/{flow_id}").status_code == 204
    assert admin.get(f"/api/flows/{flow_id}").status_code == 404
    with server.client() as caller:
        assert (
            caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"}).status_code == 404
        )


def test_validate_reports_problems_and_the_ports_of_each_node(admin: httpx.Client) -> None:
    document = flows.echo()
    document["edges"].append({"from": "trigger.prompt", "to": "respond.missing"})
    answer = admin.post("/api/validate", json=document).json()
    assert answer["valid"] is False
    assert [(p["node_id"], p["port"]) for p in answer["problems"]] == [("respond", "missing")]
    respond_inputs = [p["name"] for p in answer["ports"]["respond"]["inputs"]]
    assert respond_inputs == ["prompt", "label"]
    assert answer["ports"]["trigger"]["outputs"][0] == {
        "name": "prompt", "type": "text", "required": True, "config_fallback": False,
        "description": "",
    }  # fmt: skip


def test_the_editor_catalog(admin: httpx.Client) -> None:
    types = {t["type"]: t for t in admin.get("/api/node-types").json()}
    assert {"http_trigger", "image", "image_resize", "text_overlay", "respond"} <= types.keys()
    assert "properties" in types["image"]["config_schema"]
    assert [p["name"] for p in types["image"]["outputs"]][:1] == ["image"]
    models = admin.get("/api/models").json()
    assert models["default"] == "gemini-nano-banana-2.1"
    assert models["key"] is None  # the preview backend: no key to ask
    by_id = {m["id"]: m for m in models["models"]}
    assert by_id["gemini-3-pro-image"]["available"] is None
    assert by_id["gemini-2.5-flash-image"]["successor"] == "gemini-3.1-flash-lite-image"
    assert by_id["gemini-nano-banana-2.1"]["image_sizes"] == ["1K", "2K", "4K"]
    templates = admin.get("/api/templates").json()
    assert {"product-shot", "social-card"} <= {t["id"] for t in templates}


def test_a_version_that_cannot_serve_is_neither_published_nor_rolled_back_to(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, {"format": 1, "name": "New flow", "nodes": [], "edges": []})
    no_trigger = flows.echo()
    no_trigger["nodes"] = no_trigger["nodes"][1:]
    no_trigger["edges"] = []
    admin.put(f"/api/flows/{flow_id}", json={"document": no_trigger}).raise_for_status()
    refused = admin.post(f"/api/flows/{flow_id}/publish", json={})
    assert refused.status_code == 422
    assert refused.json()["detail"].startswith("version 2 cannot be published")
    *unwired, no_trigger_problem = refused.json()["errors"]
    assert [(p["node_id"], p["port"]) for p in unwired] == [("respond", "prompt")]
    assert no_trigger_problem["node_id"] is None
    assert "HTTP Trigger" in no_trigger_problem["message"]
    assert admin.get(f"/api/flows/{flow_id}/publication").status_code == 404  # no secret made
    admin.put(f"/api/flows/{flow_id}", json={"document": flows.echo()}).raise_for_status()
    secret = flows.publish(admin, flow_id)["secret"]
    for old in (1, 2):
        rollback = admin.post(f"/api/flows/{flow_id}/publish", json={"version": old})
        assert rollback.status_code == 422, rollback.text
    assert admin.get(f"/api/flows/{flow_id}/publication").json()["version"] == 3
    with server.client() as caller:
        served = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "still here"})
        assert served.json() == {"prompt": "still here", "label": "v1"}
    listed = admin.get(f"/api/flows/{flow_id}/versions").json()
    assert [(v["number"], v["publishable"]) for v in listed] == [(3, True), (2, False), (1, False)]
    assert listed[0]["problems"] == []
    assert "HTTP Trigger" in listed[2]["problems"][-1]["message"]


def test_a_version_carries_the_message_given_on_save(admin: httpx.Client) -> None:
    answer = admin.post("/api/flows", json={"document": flows.echo("v1"), "message": "first"})
    flow_id = answer.json()["id"]
    saved = admin.put(f"/api/flows/{flow_id}", json={"document": flows.echo("v2")})
    saved.raise_for_status()
    assert [v["message"] for v in admin.get(f"/api/flows/{flow_id}/versions").json()] == [
        None,
        "first",
    ]
    assert admin.get(f"/api/flows/{flow_id}/versions/1").json()["message"] == "first"
    too_long = admin.put(
        f"/api/flows/{flow_id}", json={"document": flows.echo(), "message": "x" * 501}
    )
    assert too_long.status_code == 422


def _keyed_server(data_dir: Path, fake: FakeGemini, backend: str) -> LiveServer:
    """A server with the key "k" in its environment, on `backend`, against `fake`."""
    settings = server_settings(
        data_dir,
        PLAIT_IMAGE_BACKEND=backend,
        GEMINI_API_KEY="k",
        PLAIT_GEMINI_BASE_URL=fake.base_url,
    )
    return LiveServer(settings)


def _available(models: dict[str, Any]) -> dict[str, bool | None]:
    return {m["id"]: m["available"] for m in models["models"]}


def test_the_models_show_what_the_servers_key_can_use(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    gemini_fake.listing = ModelListing(models=("gemini-3-pro-image", "gemini-4-flash-image"))
    with _keyed_server(tmp_path / "data", gemini_fake, "gemini") as live, live.admin() as admin:
        models = admin.get("/api/models").json()
        available = _available(models)
        assert available["gemini-3-pro-image"] is True
        assert available["gemini-nano-banana-2.1"] is False
        assert models["key"]["not_in_catalog"] == ["gemini-4-flash-image"]
        admin.get("/api/models")
        assert len([r for r in gemini_fake.requests if r.path.endswith("/models")]) == 1
        gemini_fake.listing = ModelListing(models=("gemini-nano-banana-2.1",))
        checked = admin.post("/api/models/check").json()
        available = _available(checked)
        assert available["gemini-nano-banana-2.1"] is True
        assert len([r for r in gemini_fake.requests if r.path.endswith("/models")]) == 2


def test_validate_answers_warnings_for_a_deprecated_model(admin: httpx.Client) -> None:
    document = {
        "nodes": [
            {
                "id": "img",
                "type": "image",
                "config": {"model": "gemini-2.5-flash-image", "prompt": "x"},
            }
        ]
    }
    answer = admin.post("/api/validate", json=document).json()
    assert answer["valid"] is True
    [warning] = answer["warnings"]
    assert (warning["node_id"], warning["field"]) == ("img", "model")
    assert "switch to gemini-3.1-flash-lite-image" in warning["message"]


def test_the_models_use_a_stored_key_and_the_preview_backend_asks_nothing(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    gemini_fake.listing = ModelListing(models=("gemini-3-pro-image",))
    settings = server_settings(
        tmp_path / "data", PLAIT_IMAGE_BACKEND=None, PLAIT_GEMINI_BASE_URL=gemini_fake.base_url
    )
    with LiveServer(settings) as live, live.admin() as admin:
        assert admin.get("/api/models").json()["key"] is None  # no key: preview, not asked
        admin.put("/api/settings/gemini-key", json={"key": "stored-key"}).raise_for_status()
        available = _available(admin.get("/api/models").json())  # the key saved in Settings
        assert available["gemini-3-pro-image"] is True
        assert available["gemini-nano-banana-2.1"] is False
    lists = [r for r in gemini_fake.requests if r.path.endswith("/models")]
    assert [r.headers["x-goog-api-key"] for r in lists] == ["stored-key"]

    with _keyed_server(tmp_path / "offline", gemini_fake, "preview") as live, live.admin() as admin:
        models = admin.get("/api/models").json()
        assert models["key"] is None
        assert {m["available"] for m in models["models"]} == {None}
        assert admin.post("/api/models/check").json()["key"] is None
    assert len([r for r in gemini_fake.requests if r.path.endswith("/models")]) == 1
