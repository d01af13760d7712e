"""Batches through the API against a real server: rows checked, estimate confirmed, progress
streamed, results downloaded as a ZIP, failed rows retried, and resumed after a restart."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from plait.api.routes import batches as batch_routes
from tests.fakes.gemini import FakeGemini, Fault
from tests.helpers import open_image, until
from tests.integration.api import flows
from tests.server import LiveServer, server_settings

PHOTO_FLOW = {
    "format": 1,
    "nodes": [
        {
            "id": "trigger",
            "type": "http_trigger",
            "config": {"fields": [{"name": "prompt"}, {"name": "photo", "type": "image"}]},
        },
        {
            "id": "image",
            "type": "image",
            "config": {
                "prompt": "{{ trigger.prompt }}",
                "references": [{"port": "ref_1", "caption": "this"}],
            },
        },
        {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
    ],
    "edges": [
        {"from": "trigger.photo", "to": "image.ref_1"},
        {"from": "image.image", "to": "respond.image"},
    ],
}


def _png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(out, "PNG")
    return out.getvalue()


def _csv(*lines: str) -> tuple[str, bytes, str]:
    return ("rows.csv", ("\n".join(lines) + "\n").encode(), "text/csv")


def _create(client: httpx.Client, flow_id: str, rows: Any, **fields: Any) -> httpx.Response:
    data = {k: str(v) for k, v in fields.items()}
    return client.post(f"/api/flows/{flow_id}/batches", files={"rows": rows}, data=data)


def _progress(client: httpx.Client, batch_id: str) -> Iterator[dict[str, Any]]:
    """The batch's progress events until it has ended, reconnecting as EventSource does
    when a stream ends first."""
    active = True
    while active:
        with client.stream("GET", f"/api/batches/{batch_id}/events") as answer:
            assert answer.status_code == 200
            for line in answer.iter_lines():
                if line.startswith("data: "):
                    event = json.loads(line.removeprefix("data: "))
                    active = event["active"]
                    yield event


def _until_ended(client: httpx.Client, batch_id: str) -> list[dict[str, Any]]:
    events = list(_progress(client, batch_id))
    assert not events[-1]["active"]
    return events


def test_a_batch_runs_and_its_zip_matches_the_manifest(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, PHOTO_FLOW)
    rows = _csv("prompt,photo", "a red one,red.png", "a blue one,blue.png", "again,red.png")
    files = [
        ("files", ("red.png", _png("red"), "image/png")),
        ("files", ("blue.png", _png("blue"), "image/png")),
    ]
    estimate = admin.post(f"/api/flows/{flow_id}/batches/estimate", files=[("rows", rows), *files])
    assert estimate.status_code == 200, estimate.text
    assert estimate.json()["estimate"]["rows"] == 3
    assert estimate.json()["estimate"]["free"] is True  # the preview backend

    created = admin.post(f"/api/flows/{flow_id}/batches", files=[("rows", rows), *files])
    assert created.status_code == 201, created.text
    batch = created.json()
    assert (batch["total_rows"], batch["flow_version"], batch["state"]) == (3, 1, "running")

    events = _until_ended(admin, batch["id"])
    final = events[-1]
    assert final["state"] == "finished"
    assert final["counts"]["succeeded"] == 3
    assert final["settled"] == 3
    settled = [e["settled"] for e in events]
    assert settled == sorted(settled)  # progress only moves forward

    detail = admin.get(f"/api/batches/{batch['id']}").json()
    assert [(r["number"], r["status"]) for r in detail["rows"]] == [
        (1, "succeeded"),
        (2, "succeeded"),
        (3, "succeeded"),
    ]
    assert [b["id"] for b in admin.get("/api/batches", params={"flow_id": flow_id}).json()] == [
        batch["id"]
    ]
    # each row links its input image and the image its run made
    thumbs = [r["thumbnails"] for r in detail["rows"]]
    assert [len(t["inputs"]) for t in thumbs] == [1, 1, 1]
    assert [len(t["outputs"]) for t in thumbs] == [1, 1, 1]
    red = admin.get(thumbs[0]["inputs"][0])
    assert red.status_code == 200
    pixel = open_image(red.content).getpixel((0, 0))
    assert isinstance(pixel, tuple)
    assert pixel[:3] == (255, 0, 0)
    assert thumbs[2]["inputs"] == thumbs[0]["inputs"]  # the same file, the same image
    assert thumbs[1]["inputs"] != thumbs[0]["inputs"]
    made = admin.get(thumbs[1]["outputs"][0])
    assert made.status_code == 200
    assert open_image(made.content).size == (1024, 1024)

    download = admin.get(f"/api/batches/{batch['id']}/results.zip")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    assert [(m["row"], m["status"]) for m in manifest] == [
        ("1", "succeeded"),
        ("2", "succeeded"),
        ("3", "succeeded"),
    ]
    assert json.loads(manifest[1]["inputs"]) == {"prompt": "a blue one", "photo": "blue.png"}
    listed = [name for m in manifest for name in m["outputs"].split()]
    assert listed == ["row-00001-image.png", "row-00002-image.png", "row-00003-image.png"]
    assert sorted(archive.namelist()) == sorted([*listed, "manifest.csv"])
    for name in listed:  # each file is the image the row's run made
        with Image.open(io.BytesIO(archive.read(name))) as image:
            assert image.format == "PNG"
            assert image.size == (1024, 1024)


def test_bad_rows_are_refused_naming_row_and_column(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, PHOTO_FLOW)
    rows = _csv("prompt,photo,colour", "fine,red.png,blue", "also fine,missing.png,", ",red.png,")
    files = [("files", ("red.png", _png("red"), "image/png"))]
    for route in ("batches/estimate", "batches"):
        answer = admin.post(f"/api/flows/{flow_id}/{route}", files=[("rows", rows), *files])
        assert answer.status_code == 422, answer.text
        errors = answer.json()["errors"]
        assert [(e["row"], e["field"]) for e in errors] == [(1, "colour")]
        assert "not a field of the trigger" in errors[0]["message"]
    rows = _csv("prompt,photo", "fine,red.png", "also fine,missing.png", ",/etc/passwd")
    answer = admin.post(f"/api/flows/{flow_id}/batches", files=[("rows", rows), *files])
    assert answer.status_code == 422, answer.text
    errors = {(e["row"], e["field"]): e["message"] for e in answer.json()["errors"]}
    assert "no file named 'missing.png' was sent with the rows" in errors[(2, "photo")]
    assert "no file named '/etc/passwd'" in errors[(3, "photo")]  # never read from disk
    assert admin.get("/api/batches", params={"flow_id": flow_id}).json() == []


def test_every_batch_route_needs_a_login(server: LiveServer, admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    created = _create(admin, flow_id, _csv("prompt", "a"))
    batch_id = created.json()["id"]
    _until_ended(admin, batch_id)
    with server.client() as anonymous:
        for method, path in [
            ("POST", f"/api/flows/{flow_id}/batches/estimate"),
            ("POST", f"/api/flows/{flow_id}/batches"),
            ("GET", "/api/batches"),
            ("GET", f"/api/batches/{batch_id}"),
            ("GET", f"/api/batches/{batch_id}/events"),
            ("GET", f"/api/batches/{batch_id}/results.zip"),
            ("POST", f"/api/batches/{batch_id}/cancel"),
            ("POST", f"/api/batches/{batch_id}/retry"),
        ]:
            assert anonymous.request(method, path).status_code == 401, path


@pytest.fixture
def gemini_server(tmp_path: Path, gemini_fake: FakeGemini) -> Iterator[LiveServer]:
    settings = server_settings(
        tmp_path / "data",
        PLAIT_IMAGE_BACKEND="gemini",
        GEMINI_API_KEY="k",
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    with LiveServer(settings) as live:
        yield live


def test_the_estimate_must_be_confirmed_and_retry_reruns_only_failed_rows(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    with gemini_server.admin() as admin:
        flow_id = flows.create(admin, flows.image_endpoint())
        rows = _csv("prompt", "one", "two", "three", "four")
        estimate = admin.post(f"/api/flows/{flow_id}/batches/estimate", files={"rows": rows})
        total = estimate.json()["estimate"]["total_usd"]
        assert total == pytest.approx(4 * 0.039)

        refused = _create(admin, flow_id, rows, concurrency=1)
        assert refused.status_code == 409
        assert "confirm_usd" in refused.json()["detail"]
        assert not gemini_fake.generate_requests()

        gemini_fake.fail(Fault(), Fault.blocked())  # the second row's image is blocked
        created = _create(admin, flow_id, rows, concurrency=1, confirm_usd=total)
        assert created.status_code == 201, created.text
        batch_id = created.json()["id"]
        final = _until_ended(admin, batch_id)[-1]
        assert (final["counts"]["succeeded"], final["counts"]["failed"]) == (3, 1)
        failed = admin.get(f"/api/batches/{batch_id}", params={"status": "failed"}).json()["rows"]
        assert [r["number"] for r in failed] == [2]
        assert "node 'image'" in failed[0]["error"]
        assert "SAFETY" in failed[0]["error"]
        assert len(gemini_fake.generate_requests()) == 4

        refused = admin.post(f"/api/batches/{batch_id}/retry", json={"confirm_usd": 0.03})
        assert refused.status_code == 409  # one row at $0.039: confirm its price
        assert "0.0390" in refused.json()["detail"]
        with ThreadPoolExecutor(2) as pool:  # two clicks at once start it once
            answers = list(
                pool.map(
                    lambda _: admin.post(f"/api/batches/{batch_id}/retry", json={"confirm_usd": 1}),
                    range(2),
                )
            )
        assert sorted(a.status_code for a in answers) == [202, 409], [a.text for a in answers]
        final = _until_ended(admin, batch_id)[-1]
        assert (final["counts"]["succeeded"], final["counts"]["failed"]) == (4, 0)
        prompts = [
            r.body["contents"][0]["parts"][0]["text"] for r in gemini_fake.generate_requests()
        ]
        assert prompts == ["one", "two", "three", "four", "two"]  # only the failed row again
        rows_now = admin.get(f"/api/batches/{batch_id}").json()["rows"]
        assert [r["attempts"] for r in rows_now] == [1, 2, 1, 1]
        again = admin.post(f"/api/batches/{batch_id}/retry", json={"confirm_usd": 1})
        assert again.status_code == 409  # no failed rows left


def test_a_batch_cut_off_by_a_stop_finishes_after_restart(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    settings = server_settings(
        tmp_path / "data",
        PLAIT_IMAGE_BACKEND="gemini",
        GEMINI_API_KEY="k",
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    gemini_fake.fail(Fault(), Fault.hang_for(120))  # row 1 answers; row 2 hangs
    with LiveServer(settings) as first, first.admin() as admin:
        flow_id = flows.create(admin, flows.image_endpoint())
        rows = _csv("prompt", "one", "two", "three")
        created = _create(admin, flow_id, rows, concurrency=1, confirm_usd=1)
        batch_id = created.json()["id"]
        until(lambda: len(gemini_fake.generate_requests()) == 2, "row 2's image call")
        # row 1 is done; row 2's call hangs: stop the server now
    with LiveServer(settings) as second, second.admin() as admin:
        final = _until_ended(admin, batch_id)[-1]
        assert (final["state"], final["counts"]["succeeded"]) == ("finished", 3)
    prompts = [r.body["contents"][0]["parts"][0]["text"] for r in gemini_fake.generate_requests()]
    assert prompts == ["one", "two", "two", "three"]  # row 1 was not run again


def test_the_budget_stops_new_rows_and_resume_finishes_them(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    with gemini_server.admin() as admin:
        flow_id = flows.create(admin, flows.image_endpoint())
        rows = _csv("prompt", "one", "two", "three", "four")
        created = _create(admin, flow_id, rows, concurrency=1, confirm_usd=1, budget_usd=0.1)
        assert created.status_code == 201, created.text
        batch_id = created.json()["id"]
        final = _until_ended(admin, batch_id)[-1]
        assert final["counts"] == {
            "pending": 0,
            "running": 0,
            "succeeded": 2,
            "failed": 0,
            "skipped": 2,
        }
        assert final["cost_usd"] <= 0.1
        skipped = admin.get(f"/api/batches/{batch_id}", params={"status": "skipped"}).json()
        assert [(r["number"], r["error"]) for r in skipped["rows"]] == [
            (3, "skipped: budget"),
            (4, "skipped: budget"),
        ]

        resumed = admin.post(
            f"/api/batches/{batch_id}/resume", json={"confirm_usd": 0.078, "budget_usd": 1}
        )
        assert resumed.status_code == 202, resumed.text
        assert resumed.json()["budget_usd"] == 1
        final = _until_ended(admin, batch_id)[-1]
        assert final["counts"]["succeeded"] == 4
    prompts = [r.body["contents"][0]["parts"][0]["text"] for r in gemini_fake.generate_requests()]
    assert prompts == ["one", "two", "three", "four"]


def test_cancel_stops_the_batch_and_its_runs(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    gemini_fake.fail(Fault.hang_for(120))  # row 1's image hangs until cancelled
    with gemini_server.admin() as admin:
        flow_id = flows.create(admin, flows.image_endpoint())
        rows = _csv("prompt", "one", "two", "three")
        batch_id = _create(admin, flow_id, rows, concurrency=1, confirm_usd=1).json()["id"]
        until(lambda: len(gemini_fake.generate_requests()) == 1, "row 1's image call")
        cancelled = admin.post(f"/api/batches/{batch_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["state"] == "cancelled"
        assert cancelled.json()["active"] is False
        detail = admin.get(f"/api/batches/{batch_id}").json()
        assert [(r["status"], r["error"]) for r in detail["rows"]] == [
            ("skipped", "skipped: cancelled"),
            ("skipped", "skipped: cancelled"),
            ("skipped", "skipped: cancelled"),
        ]
        run = admin.get(f"/api/runs/{detail['rows'][0]['run_id']}").json()
        assert run["status"] == "cancelled"
        assert admin.post(f"/api/batches/{batch_id}/cancel").status_code == 409

        resumed = admin.post(f"/api/batches/{batch_id}/resume", json={"confirm_usd": 1})
        assert resumed.status_code == 202, resumed.text
        final = _until_ended(admin, batch_id)[-1]
        assert (final["state"], final["counts"]["succeeded"]) == ("finished", 3)


def test_a_progress_stream_ends_before_a_long_batch_does(
    gemini_server: LiveServer, gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An open stream must not hold up the server's shutdown: it ends, the client reconnects."""
    monkeypatch.setattr(batch_routes, "STREAM_SECONDS", 0.5)
    gemini_fake.fail(Fault.hang_for(120))
    with gemini_server.admin() as admin:
        flow_id = flows.create(admin, flows.image_endpoint())
        batch_id = _create(admin, flow_id, _csv("prompt", "one"), confirm_usd=1).json()["id"]
        with admin.stream("GET", f"/api/batches/{batch_id}/events") as answer:
            lines = list(answer.iter_lines())
        assert lines[0] == "retry: 1000"
        events = [json.loads(x.removeprefix("data: ")) for x in lines if x.startswith("data: ")]
        assert events
        assert events[-1]["active"] is True
        assert admin.post(f"/api/batches/{batch_id}/cancel").json()["state"] == "cancelled"
