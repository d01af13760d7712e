"""Inputs the fuzzers found that once answered 500, each now a clear 4xx."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.api import flows
from tests.server import LiveServer, server_settings

SHARED_SERVER = True  # each test makes, and looks only at, its own flows
JSON = {"content-type": "application/json"}
SURROGATE = "the request holds text that is not Unicode"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/flows", '{"document": {"format": 1, "name": "x\\ud800", "nodes": []}}'),
        ("PUT", "/api/settings/gemini-key", '{"key": "AIzaSy-12345\\ud800"}'),
        ("POST", "/api/validate", '{"format": 1, "nodes": [{"id": "\\udc00", "type": "x"}]}'),
    ],
    ids=["flow name", "gemini key", "validated node id"],
)
def test_unpaired_surrogates_in_json_are_a_400(
    admin: httpx.Client, method: str, path: str, body: str
) -> None:
    answer = admin.request(method, path, content=body, headers=JSON)
    assert answer.status_code == 400, answer.text
    assert SURROGATE in answer.json()["detail"]


def test_unpaired_surrogates_sent_to_a_trigger_are_a_400_before_any_run(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.echo())
    secret = flows.publish(admin, flow_id)["secret"]
    with server.client() as caller:
        answer = caller.post(
            f"/api/trigger/{secret}/trigger", content='{"prompt": "\\ud800"}', headers=JSON
        )
    assert answer.status_code == 400, answer.text
    assert admin.get("/api/runs", params={"flow_id": flow_id}).json() == []


def test_optional_trigger_fields_may_be_left_out(server: LiveServer, admin: httpx.Client) -> None:
    document = flows.echo()
    document["nodes"][0]["config"]["fields"].append(
        {"name": "count", "type": "number", "required": False}
    )
    secret = flows.publish(admin, flows.create(admin, document))["secret"]
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "hi"})
        explicit_null = caller.post(
            f"/api/trigger/{secret}/trigger", json={"prompt": "hi", "count": None}
        )
    assert answer.status_code == 200, answer.text  # was a failed run: 500
    assert explicit_null.status_code == 200, explicit_null.text


def test_non_ascii_signatures_and_tokens_are_refused_not_crashed(
    server: LiveServer, admin: httpx.Client
) -> None:
    with server.client() as anonymous:
        link = anonymous.get("/files/" + "0" * 64, params={"exp": 2**40, "sig": "🇺🇸"})
        assert link.status_code == 403
    csrf = admin.post("/api/tokens", json={"name": "x"}, headers={b"X-CSRF-Token": b"\xe9t\xe9"})
    assert csrf.status_code == 403


def test_a_non_ascii_setup_token_is_refused(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, PLAIT_ADMIN_EMAIL=None, PLAIT_ADMIN_PASSWORD=None)
    with LiveServer(settings) as fresh, fresh.client() as client:
        body = {"token": "é", "email": "a@b.c", "password": "a long enough password"}
        assert client.post("/api/auth/setup", json=body).status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/api/flows/{id}/versions/99999999999999999999",
        "/api/flows/{id}/diff?a=1&b=99999999999999999999",
        "/api/flows/{id}/versions/-5",
    ],
)
def test_huge_version_numbers_are_a_422(admin: httpx.Client, path: str) -> None:
    flow_id = flows.create(admin, flows.echo())
    assert admin.get(path.format(id=flow_id)).status_code == 422
    publish = admin.post(f"/api/flows/{flow_id}/publish", json={"version": 2**70})
    assert publish.status_code == 422


def test_a_file_for_a_text_field_is_a_422_naming_it(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = flows.publish(admin, flows.create(admin, flows.echo()))["secret"]
    with server.client() as caller:
        answer = caller.post(
            f"/api/trigger/{secret}/trigger", files={"prompt": ("p.txt", b"hello", "text/plain")}
        )
    assert answer.status_code == 422, answer.text  # was a TypeError: 500
    assert answer.json()["errors"][0]["field"] == "prompt"
    assert "not an image field" in answer.json()["errors"][0]["message"]


def test_every_route_refuses_a_body_over_the_cap(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, PLAIT_MAX_UPLOAD_BYTES="1000")
    with LiveServer(settings) as server, server.admin() as admin:
        huge = {"document": {"format": 1, "name": "x" * 2_000_000}}
        answer = admin.post("/api/flows", json=huge)
        assert answer.status_code == 413
        assert admin.get("/api/flows").json() == []  # nothing was saved; the server goes on
