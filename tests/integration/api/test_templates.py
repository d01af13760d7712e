"""The shipped flow templates run on the server as the Flows page creates them."""

from __future__ import annotations

import httpx
import pytest

from plait.flows.gallery import flow_templates
from tests.integration.api import flows
from tests.integration.api.test_runs import _settled

TEMPLATES = [t.id for t in flow_templates()]

SHARED_SERVER = True  # each test makes, and looks only at, its own flows


@pytest.mark.parametrize("template_id", TEMPLATES)
def test_each_template_runs_on_its_first_click(admin: httpx.Client, template_id: str) -> None:
    [template] = [t for t in admin.get("/api/templates").json() if t["id"] == template_id]
    flow_id = flows.create(admin, template["document"])
    started = admin.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "studio"}})
    assert started.status_code == 202, started.text
    run = _settled(admin, started.json()["run_id"])
    assert run["status"] == "succeeded", run["error"]
    assert {n["status"] for n in run["nodes"]} == {"succeeded"}


def test_templates_name_their_images_by_blob_not_by_path(admin: httpx.Client) -> None:
    templates = {t["id"]: t["document"] for t in admin.get("/api/templates").json()}
    assert set(templates) == set(TEMPLATES) >= {"product-shot", "social-card"}
    [photo] = [n for n in templates["social-card"]["nodes"] if n["id"] == "photo"]
    assert set(photo["config"]) == {"blob"}
