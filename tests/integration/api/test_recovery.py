"""A server stopped mid-run picks the run up on restart without paying for finished nodes."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.gemini import FakeGemini, Fault
from tests.helpers import until
from tests.server import LiveServer, server_settings

TWO_IMAGES = {
    "format": 1,
    "nodes": [
        {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
        {"id": "first", "type": "image", "config": {"prompt": "{{ trigger.prompt }}"}},
        {
            "id": "second",
            "type": "image",
            "config": {
                "prompt": "the same, at night",
                "references": [{"port": "ref_1", "caption": "this"}],
            },
        },
        {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
    ],
    "edges": [
        {"from": "first.image", "to": "second.ref_1"},
        {"from": "second.image", "to": "respond.image"},
    ],
}


def test_a_run_interrupted_by_a_stop_finishes_after_restart(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    settings = {
        "PLAIT_IMAGE_BACKEND": "gemini",
        "GEMINI_API_KEY": "k",
        "PLAIT_GEMINI_BASE_URL": gemini_fake.base_url,
    }
    gemini_fake.fail(Fault(), Fault.hang_for(120))  # the first image answers; the second hangs
    with LiveServer(server_settings(tmp_path, **settings)) as first, first.admin() as admin:
        flow = admin.post("/api/flows", json={"document": TWO_IMAGES}).json()
        secret = admin.post(f"/api/flows/{flow['id']}/publish", json={}).json()["secret"]
        with first.client() as caller:
            accepted = caller.post(
                f"/api/trigger/{secret}/trigger", params={"wait": "false"}, json={"prompt": "a"}
            )
        run_id = accepted.json()["run_id"]
        until(lambda: len(gemini_fake.generate_requests()) == 2, "the second image call")
    prompts = [r.body["contents"][0]["parts"][0]["text"] for r in gemini_fake.generate_requests()]
    with LiveServer(server_settings(tmp_path, **settings)) as second, second.admin() as admin:
        until(
            lambda: admin.get(f"/api/runs/{run_id}").json()["status"] == "succeeded",
            "the resumed run",
        )
        run = admin.get(f"/api/runs/{run_id}").json()
    calls = [r.body["contents"][0]["parts"][0]["text"] for r in gemini_fake.generate_requests()]
    assert prompts == ["a", "the same, at night"]
    assert calls == ["a", "the same, at night", "the same, at night"]  # "a" was not paid twice
    nodes = {n["node_id"]: n for n in run["nodes"]}
    assert {n["status"] for n in nodes.values()} == {"succeeded"}
    assert nodes["first"]["cost_usd"] > 0  # the first attempt's record of it is kept
