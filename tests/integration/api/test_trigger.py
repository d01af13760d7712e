"""The published API over real HTTP: call, images by signed URL, limits, secrets, rollback."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from plait.api.routes import publish as publish_routes
from plait.publishing import lookup
from plait.store.tables import utcnow
from tests.helpers import open_image, png
from tests.integration.api import flows
from tests.server import LiveServer, server_settings

SHARED_SERVER = True  # each test makes, and looks only at, its own flows


def _secret(publication: dict[str, object]) -> str:
    secret = publication["secret"]
    assert isinstance(secret, str)
    return secret


def test_the_image_endpoint_answers_a_signed_url_that_serves_the_image(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.image_endpoint(aspect_ratio="16:9"))
    publication = flows.publish(admin, flow_id)
    secret = _secret(publication)
    assert len(secret) >= 43  # 256 bits, URL-safe
    [endpoint] = publication["triggers"]
    assert endpoint["url"] == f"{server.url}/api/trigger/{secret}/trigger"
    with server.client() as caller:
        answer = caller.post(endpoint["url"], json={"prompt": "a red sneaker on white"})
        assert answer.status_code == 200, answer.text
        url = answer.json()["image"]
        assert url.startswith(f"{server.url}/files/")
        image = caller.get(url)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert open_image(image.content).size == (1344, 768)  # the 16:9 size of the model


def test_signed_links_refuse_a_changed_signature_or_file(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = _secret(flows.publish(admin, flows.create(admin, flows.image_endpoint())))
    with server.client() as caller:
        url = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"}).json()["image"]
        path, query = url.removeprefix(server.url).split("?")
        changed = "1" if query.endswith("0") else "0"  # the signature's last digit, changed
        assert caller.get(f"{path}?{query[:-1]}{changed}").status_code == 403
        other = "0" * 64
        assert caller.get(f"/files/{other}?{query}").status_code == 403
        expired = caller.get(f"{path}?exp=1&sig={query.split('sig=')[1]}")
        assert expired.status_code == 403


def test_unknown_secret_and_unknown_node_give_the_same_404(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = _secret(flows.publish(admin, flows.create(admin, flows.echo())))
    with server.client() as caller:
        unknown_secret = caller.post("/api/trigger/not-a-secret/trigger", json={"prompt": "x"})
        unknown_node = caller.post(f"/api/trigger/{secret}/respond", json={"prompt": "x"})
        missing_node = caller.post(f"/api/trigger/{secret}/nope", json={"prompt": "x"})
    assert unknown_secret.status_code == unknown_node.status_code == missing_node.status_code == 404
    assert unknown_secret.json() == unknown_node.json() == missing_node.json()


def test_a_malformed_body_gets_422_naming_each_field(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = _secret(flows.publish(admin, flows.create(admin, flows.echo())))
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"colour": "red"})
        not_json = caller.post(
            f"/api/trigger/{secret}/trigger",
            content=b"{not json",
            headers={"content-type": "application/json"},
        )
        a_list = caller.post(f"/api/trigger/{secret}/trigger", json=["prompt"])
        empty = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": ""})
        spaces = caller.post(f"/api/trigger/{secret}/trigger", data={"prompt": "  "})
    assert answer.status_code == 422
    errors = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert errors == {
        "colour": "is not a field of this trigger",
        "prompt": "is required but was not given",
    }
    for blank in (empty, spaces):  # an empty required text field counts as missing
        assert blank.status_code == 422, blank.text
        [error] = blank.json()["errors"]
        assert (error["field"], error["message"]) == ("prompt", "is required but was empty")
    assert not_json.status_code == 400
    assert "not valid JSON" in not_json.json()["detail"]
    assert a_list.status_code == 422


def test_61_calls_in_a_minute_give_sixty_answers_and_one_429(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = _secret(flows.publish(admin, flows.create(admin, flows.echo())))
    with server.client() as caller:
        answers = [
            caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": str(i)})
            for i in range(61)
        ]
    codes = [a.status_code for a in answers]
    assert codes[:60] == [200] * 60
    assert codes[60] == 429
    refused = answers[60]
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.headers["ratelimit-policy"] == '"trigger";q=60;w=60'
    assert refused.headers["ratelimit"].startswith('"trigger";r=0;')
    assert answers[0].headers["ratelimit"].startswith('"trigger";r=59;')
    assert "limit of 60 requests per minute" in refused.json()["detail"]


def test_the_rate_limit_is_configurable_per_flow(server: LiveServer, admin: httpx.Client) -> None:
    secret = _secret(
        flows.publish(admin, flows.create(admin, flows.echo()), rate_limit_per_minute=3)
    )
    with server.client() as caller:
        codes = [
            caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"}).status_code
            for _ in range(4)
        ]
    assert codes == [200, 200, 200, 429]


def test_rollback_changes_the_served_version_at_once_and_the_draft_never_does(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.echo("v1"))
    secret = _secret(flows.publish(admin, flow_id))
    url = f"/api/trigger/{secret}/trigger"
    with server.client() as caller:
        assert caller.post(url, json={"prompt": "p"}).json() == {"prompt": "p", "label": "v1"}
        admin.put(f"/api/flows/{flow_id}", json={"document": flows.echo("v2")}).raise_for_status()
        assert caller.post(url, json={"prompt": "p"}).json()["label"] == "v1"  # draft only
        assert flows.publish(admin, flow_id, version=2)["version"] == 2
        assert caller.post(url, json={"prompt": "p"}).json()["label"] == "v2"
        flows.publish(admin, flow_id, version=1)  # rollback
        assert caller.post(url, json={"prompt": "p"}).json()["label"] == "v1"
        assert admin.post(f"/api/flows/{flow_id}/unpublish").status_code == 204
        assert caller.post(url, json={"prompt": "p"}).status_code == 404


class Clock:
    """UTC now for the server's secret expiry, moved by the test (no test waits for it)."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


def test_a_rotated_secret_works_through_its_grace_period_then_stops(
    server: LiveServer, admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(publish_routes, "utcnow", clock)  # when the grace period ends
    monkeypatch.setattr(lookup, "utcnow", clock)  # whether it has
    flow_id = flows.create(admin, flows.echo())
    old = _secret(flows.publish(admin, flow_id, rate_limit_per_minute=100_000))
    rotated = admin.post(f"/api/flows/{flow_id}/rotate-secret", json={"grace_seconds": 60})
    new = _secret(rotated.json())
    assert new != old
    with server.client() as caller:
        assert caller.post(f"/api/trigger/{new}/trigger", json={"prompt": "x"}).status_code == 200
        clock.now += timedelta(seconds=59)
        assert caller.post(f"/api/trigger/{old}/trigger", json={"prompt": "x"}).status_code == 200
        clock.now += timedelta(seconds=1)
        assert caller.post(f"/api/trigger/{old}/trigger", json={"prompt": "x"}).status_code == 404
        assert caller.post(f"/api/trigger/{new}/trigger", json={"prompt": "x"}).status_code == 200
        at_once = admin.post(f"/api/flows/{flow_id}/rotate-secret", json={"grace_seconds": 0})
        assert caller.post(f"/api/trigger/{new}/trigger", json={"prompt": "x"}).status_code == 404
        newest = _secret(at_once.json())
        assert (
            caller.post(f"/api/trigger/{newest}/trigger", json={"prompt": "x"}).status_code == 200
        )


def test_a_repeated_idempotency_key_returns_the_first_run(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.image_endpoint())
    secret = _secret(flows.publish(admin, flow_id))
    url = f"/api/trigger/{secret}/trigger"
    with server.client(headers={"Idempotency-Key": "order-1234"}) as caller:
        first = caller.post(url, json={"prompt": "first"})
        second = caller.post(url, json={"prompt": "second"})
    assert first.status_code == second.status_code == 200
    assert first.headers["x-plait-run-id"] == second.headers["x-plait-run-id"]
    assert first.json() == second.json()
    runs = admin.get("/api/runs", params={"flow_id": flow_id}).json()
    assert len(runs) == 1


def test_an_idempotency_key_past_255_characters_is_refused_before_a_run(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.echo())
    secret = _secret(flows.publish(admin, flow_id))
    with server.client(headers={"Idempotency-Key": "k" * 256}) as caller:
        refused = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"})
    assert refused.status_code == 400
    assert refused.json() == {"detail": "Idempotency-Key must be 1 to 255 characters"}
    assert admin.get("/api/runs", params={"flow_id": flow_id}).json() == []


def test_wait_false_answers_202_with_a_status_url(server: LiveServer, admin: httpx.Client) -> None:
    secret = _secret(flows.publish(admin, flows.create(admin, flows.image_endpoint())))
    with server.client() as caller:
        accepted = caller.post(
            f"/api/trigger/{secret}/trigger", params={"wait": "false"}, json={"prompt": "x"}
        )
        assert accepted.status_code == 202
        status_url = accepted.json()["status_url"]
        assert status_url.startswith(f"{server.url}/api/trigger/{secret}/runs/")
        deadline = time.monotonic() + 30
        while (status := caller.get(status_url).json())["status"] != "succeeded":
            assert status["status"] in ("queued", "running"), status
            assert time.monotonic() < deadline
        assert status["result"]["image"].startswith(f"{server.url}/files/")
        assert caller.get(status_url.replace(secret, "wrong")).status_code == 404


def test_wait_false_answers_202_even_when_the_run_is_already_done(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = _secret(flows.publish(admin, flows.create(admin, flows.echo())))
    with server.client() as caller:  # an echo run is done in well under a millisecond
        answers = [
            caller.post(
                f"/api/trigger/{secret}/trigger", params={"wait": "false"}, json={"prompt": "x"}
            )
            for _ in range(20)
        ]
    assert [a.status_code for a in answers] == [202] * 20
    assert {a.json()["status"] for a in answers} <= {"queued", "running", "succeeded"}


def test_respond_in_image_mode_returns_the_bytes(server: LiveServer, admin: httpx.Client) -> None:
    document = flows.image_endpoint()
    document["nodes"][2]["config"] = {"mode": "image"}
    secret = _secret(flows.publish(admin, flows.create(admin, document)))
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/png"
    assert int(answer.headers["content-length"]) == len(answer.content)
    assert open_image(answer.content).size == (1024, 1024)


def test_image_fields_arrive_as_multipart_files_or_base64(
    server: LiveServer, admin: httpx.Client
) -> None:
    document = {
        "format": 1,
        "nodes": [
            {
                "id": "trigger",
                "type": "http_trigger",
                "config": {"fields": [{"name": "photo", "type": "image"}]},
            },
            {"id": "resize", "type": "image_resize", "config": {"width": 40}},
            {"id": "respond", "type": "respond", "config": {"mode": "image"}},
        ],
        "edges": [
            {"from": "trigger.photo", "to": "resize.image"},
            {"from": "resize.image", "to": "respond.image"},
        ],
    }
    secret = _secret(flows.publish(admin, flows.create(admin, document)))
    url = f"/api/trigger/{secret}/trigger"
    photo = png(200, 100)
    with server.client() as caller:
        multipart = caller.post(url, files={"photo": ("p.png", photo, "image/png")})
        b64 = caller.post(url, json={"photo": base64.b64encode(photo).decode()})
        data_url = caller.post(
            url, json={"photo": "data:image/png;base64," + base64.b64encode(photo).decode()}
        )
        not_image = caller.post(url, files={"photo": ("p.png", b"<html>hi</html>", "image/png")})
    for answer in (multipart, b64, data_url):
        assert answer.status_code == 200, answer.text
        assert open_image(answer.content).size == (40, 20)
    assert not_image.status_code == 422
    assert not_image.json()["errors"][0]["field"] == "photo"


def test_the_published_flow_has_its_own_openapi_and_examples(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.image_endpoint())
    flows.publish(admin, flow_id)
    spec = admin.get(f"/api/flows/{flow_id}/openapi.json").json()
    operation = spec["paths"]["/api/trigger/{secret}/trigger"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["prompt"]["type"] == "string"
    assert schema["required"] == ["prompt"]
    examples = admin.get(f"/api/flows/{flow_id}/examples").json()
    assert f"{server.url}/api/trigger/<SECRET>/trigger" in examples["curl"]
    assert "'prompt'" in examples["python"]
    assert "fetch(" in examples["javascript"]


def test_the_default_rate_limit_comes_from_plait_rate_limit(tmp_path: Path) -> None:
    with LiveServer(server_settings(tmp_path, PLAIT_RATE_LIMIT="2")) as server:
        with server.admin() as admin:
            publication = flows.publish(admin, flows.create(admin, flows.echo()))
        assert publication["rate_limit_per_minute"] == 2
        with server.client() as caller:
            codes = [
                caller.post(
                    f"/api/trigger/{_secret(publication)}/trigger", json={"prompt": "x"}
                ).status_code
                for _ in range(3)
            ]
    assert codes == [200, 200, 429]


class SeenPaths:
    """ASGI middleware recording each HTTP path it passes on and marking the answer."""

    def __init__(self, app: ASGIApp, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.seen.append(scope["path"])

        async def marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message["headers"], (b"x-seen", b"yes")]
            await send(message)

        await self.app(scope, receive, marked)


def test_a_middleware_added_to_the_app_sees_trigger_calls(tmp_path: Path) -> None:
    seen: list[str] = []
    live = LiveServer(server_settings(tmp_path / "data"))
    live.app.add_middleware(SeenPaths, seen=seen)
    with live, live.admin() as admin:
        secret = _secret(flows.publish(admin, flows.create(admin, flows.echo())))
        with live.client() as caller:
            answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "hi"})
            missing = caller.post(f"/api/trigger/{secret}/nope", json={})
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-seen"] == "yes"
    assert missing.status_code == 404
    assert missing.headers["x-seen"] == "yes"
    trigger_calls = [path for path in seen if path.startswith("/api/trigger/")]
    assert trigger_calls == [f"/api/trigger/{secret}/trigger", f"/api/trigger/{secret}/nope"]


def test_wait_and_callback_url_are_declared_query_parameters(admin: httpx.Client) -> None:
    operation = admin.get("/openapi.json").json()["paths"]["/api/trigger/{secret}/{node_id}"]
    query = {p["name"]: p for p in operation["post"]["parameters"] if p["in"] == "query"}
    assert set(query) == {"wait", "callback_url"}
    wait = query["wait"]["schema"]
    assert (wait["type"], wait["default"]) == ("boolean", True)
    assert not query["wait"]["required"]
    assert not query["callback_url"]["required"]
