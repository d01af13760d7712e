"""Runs from the editor over HTTP: start with a draft, live events, records, cancel."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.helpers import open_image
from tests.integration.api import flows
from tests.server import LiveServer

SHARED_SERVER = True  # each test makes, and looks only at, its own flows


def _events(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    events = []
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if events[-1]["kind"] == "run_finished":
                    break
    return events


def _settled(client: httpx.Client, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while (run := client.get(f"/api/runs/{run_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
    settled: dict[str, Any] = run
    return settled


def test_a_draft_runs_with_test_inputs_and_streams_its_node_events(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    draft = flows.image_endpoint(" in the rain")
    started = admin.post(
        f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "a cat"}, "document": draft}
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    events = _events(admin, run_id)
    kinds = [(e["kind"], e["node_id"]) for e in events]
    assert kinds[-1] == ("run_finished", None)
    assert events[-1]["status"] == "succeeded"
    for node in ("trigger", "image", "respond"):
        assert ("node_finished", node) in kinds
    image_event = next(
        e for e in events if e["kind"] == "node_finished" and e["node_id"] == "image"
    )
    assert image_event["backend"] == "preview"
    assert admin.get(image_event["outputs"]["image"]["url"]).status_code == 200
    run = admin.get(f"/api/runs/{run_id}").json()
    assert run["status"] == "succeeded"
    assert run["source"] == "editor"
    assert run["inputs"] == {"prompt": "a cat"}
    nodes = {n["node_id"]: n for n in run["nodes"]}
    assert nodes["image"]["inputs"]["prompt"] == "a cat in the rain"
    assert nodes["image"]["duration_ms"] > 0
    assert nodes["image"]["outputs"]["image"]["$image"]["width"] == 1024
    assert run["thumbnail"].split("?")[0] == image_event["outputs"]["image"]["url"].split("?")[0]
    listed = admin.get("/api/runs", params={"flow_id": flow_id}).json()
    assert [r["id"] for r in listed] == [run_id]


def test_a_settled_run_streams_its_record(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    run_id = admin.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "x"}}).json()[
        "run_id"
    ]
    assert _settled(admin, run_id)["status"] == "succeeded"
    events = _events(admin, run_id)
    assert [e["kind"] for e in events] == ["node_finished", "node_finished", "run_finished"]
    assert events[1]["outputs"]["response"]["body"] == {"prompt": "x", "label": "v1"}
    # the shape of a live stream's events: every one names its node (None for the run's)
    assert [e["node_id"] for e in events] == ["trigger", "respond", None]


def test_runs_use_the_draft_and_invalid_drafts_are_refused_before_running(
    admin: httpx.Client,
) -> None:
    document = flows.image_endpoint()
    document["nodes"][1]["config"]["model"] = "gemini-nano-banana-2.1"
    document["nodes"][1]["config"]["image_size"] = "4K"
    document["nodes"][1]["config"]["aspect_ratio"] = "1:8"
    flow_id = flows.create(admin, flows.echo())
    run_id = admin.post(
        f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "x"}, "document": document}
    ).json()["run_id"]
    run = _settled(admin, run_id)
    assert run["status"] == "succeeded"  # a valid combination: proves the draft is what ran
    bad = flows.image_endpoint(aspect_ratio="1:8")  # 2.5 Flash Image lacks 1:8
    answer = admin.post(
        f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "x"}, "document": bad}
    )
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["node_id"] == "image"


def test_test_inputs_are_checked_against_the_trigger(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    answer = admin.post(f"/api/flows/{flow_id}/runs", json={"inputs": {}})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "prompt"


def test_run_up_to_a_node_runs_it_and_its_ancestors_only(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    draft = flows.image_endpoint(" at dawn")
    draft["nodes"].append({"id": "note", "type": "text", "config": {"template": "alone"}})
    started = admin.post(
        f"/api/flows/{flow_id}/runs",
        json={"inputs": {"prompt": "a fox"}, "document": draft, "up_to": "image"},
    )
    assert started.status_code == 202, started.text
    run = _settled(admin, started.json()["run_id"])
    assert run["status"] == "succeeded"
    nodes = {n["node_id"]: n for n in run["nodes"]}
    assert set(nodes) == {"trigger", "image"}  # not respond, not the unrelated note
    assert nodes["image"]["inputs"]["prompt"] == "a fox at dawn"
    # a node that needs no trigger runs without inputs
    alone = admin.post(f"/api/flows/{flow_id}/runs", json={"document": draft, "up_to": "note"})
    assert alone.status_code == 202, alone.text
    assert [n["node_id"] for n in _settled(admin, alone.json()["run_id"])["nodes"]] == ["note"]
    unknown = admin.post(
        f"/api/flows/{flow_id}/runs",
        json={"inputs": {"prompt": "x"}, "document": draft, "up_to": "ghost"},
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["node_id"] == "ghost"


def test_cancelling_a_settled_run_is_refused(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    run_id = admin.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "x"}}).json()[
        "run_id"
    ]
    _settled(admin, run_id)
    answer = admin.post(f"/api/runs/{run_id}/cancel")
    assert answer.status_code == 409
    assert admin.post("/api/runs/nope/cancel").status_code == 404


def test_uploads_are_checked_and_reencoded(server: LiveServer, admin: httpx.Client) -> None:
    import io

    from PIL import Image

    img = Image.new("RGB", (30, 20), "red")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise when shown
    exif[0x010E] = "secret description"
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    answer = admin.post("/api/uploads", files={"file": ("photo.jpg", out.getvalue(), "image/jpeg")})
    assert answer.status_code == 201, answer.text
    stored = admin.get(answer.json()["url"]).content
    assert b"secret description" not in stored
    assert open_image(stored).size == (20, 30)  # orientation applied
    html = admin.post("/api/uploads", files={"file": ("x.png", b"<html></html>", "image/png")})
    assert html.status_code == 415
    assert "x.png" in html.json()["detail"]


def test_editor_runs_compute_image_nodes_fresh_unless_told_to_reuse(admin: httpx.Client) -> None:
    document = flows.image_endpoint()
    flow_id = flows.create(admin, document)

    def image_node(**body: Any) -> dict[str, Any]:
        started = admin.post(
            f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "a cat"}, **body}
        )
        run = _settled(admin, started.json()["run_id"])
        assert run["flow_version"] == 1  # the saved version it ran
        [node] = [n for n in run["nodes"] if n["node_id"] == "image"]
        assert isinstance(node, dict)
        return node

    first = image_node()  # computed fresh, and kept for reuse
    assert first["cache_hit"] is False
    take = image_node()  # by default a run is a new take
    assert take["cache_hit"] is False
    reused = image_node(reuse_cache=True)  # the take the user last saw, not computed again
    assert reused["cache_hit"] is True
    assert reused["outputs"] == take["outputs"]


def test_the_runs_list_shows_version_source_inputs_and_the_document_run(
    admin: httpx.Client,
) -> None:
    flow_id = flows.create(admin, flows.echo("v1"))
    draft = flows.echo("draft")
    started = admin.post(
        f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "hi"}, "document": draft}
    )
    run_id = started.json()["run_id"]
    _settled(admin, run_id)
    [listed] = admin.get("/api/runs", params={"flow_id": flow_id}).json()
    assert (listed["source"], listed["flow_version"], listed["inputs"]) == (
        "editor",
        None,  # an unsaved draft
        {"prompt": "hi"},
    )
    ran = admin.get(f"/api/runs/{run_id}/document").json()
    assert ran["document"]["nodes"][1]["config"]["fields"][1]["value"] == "draft"
    assert admin.get("/api/runs/0123/document").status_code == 404


def test_the_editors_run_with_an_empty_required_field_is_refused_naming_it(
    admin: httpx.Client,
) -> None:
    flow_id = flows.create(admin, flows.image_endpoint())

    answer = admin.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": ""}})

    assert answer.status_code == 422, answer.text
    [error] = answer.json()["errors"]
    assert (error["field"], error["message"]) == ("prompt", "is required but was empty")
