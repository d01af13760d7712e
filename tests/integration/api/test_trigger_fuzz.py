"""The published trigger with a real secret and random bodies (Hypothesis): every answer is
a success or a 4xx, never a 5xx, and the server keeps serving.

Schemathesis covers the trigger's path and query; its body is read by hand (JSON, a form,
or multipart with files), so it is not in the OpenAPI document and is fuzzed here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.api import flows, hostile
from tests.server import LiveServer, server_settings

FIELDS: list[dict[str, Any]] = [
    {"name": "prompt", "type": "text"},
    {"name": "count", "type": "number", "required": False},
    {"name": "flag", "type": "boolean", "required": False},
    {"name": "meta", "type": "json", "required": False},
    {"name": "photo", "type": "image", "required": False},
]
ECHOED = ("prompt", "count", "flag", "meta")
FLOW = flows.echo_fields(FIELDS, list(ECHOED))
NAMES = [f["name"] for f in FIELDS]
SETTINGS = settings(
    max_examples=80,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
images = st.sampled_from(
    [
        base64.b64encode(hostile.GOOD_PNG).decode(),
        "data:image/png;base64," + base64.b64encode(hostile.GOOD_PNG).decode(),
        base64.b64encode(hostile.png_bomb()).decode(),
        base64.b64encode(hostile.truncated_jpeg()).decode(),
        base64.b64encode(hostile.SVG).decode(),
        "data:,",
        "data:image/png;base64,",
        "http://127.0.0.1/x.png",
        "https://[::1]/x.png",
        "ftp://example.com/x.png",
        "not base64 at all!",
    ]
)
bodies = st.dictionaries(
    st.sampled_from(NAMES) | st.text(max_size=10),
    json_values | images,
    max_size=6,
)
# Refused by their form alone (literal loopback IPs, other schemes): no lookup happens.
callbacks = st.sampled_from(
    [None, "http://127.0.0.1/hook", "http://[::1]:8/x", "ftp://x/", "not a url", "http://", ""]
)
keys = st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=300)
waits = st.sampled_from([None, "false", "true", "0", "maybe"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("trigger-fuzz") / "data"
    settings_ = server_settings(data, PLAIT_BASE_URL=None, PLAIT_MAX_UPLOAD_BYTES=str(256 * 1024))
    with LiveServer(settings_) as live:
        live.settings.base_url = live.url
        yield live


class Trigger:
    """Calls the published trigger with its real secret."""

    def __init__(self, client: httpx.Client, path: str):
        self.client = client
        self.path = path

    def post(self, **kwargs: Any) -> httpx.Response:
        return self.client.post(self.path, **kwargs)


@pytest.fixture(scope="module")
def call(server: LiveServer) -> Iterator[Trigger]:
    with server.admin() as admin:
        publication = flows.publish(
            admin, flows.create(admin, FLOW), rate_limit_per_minute=1_000_000
        )
    with server.client() as client:
        trigger = Trigger(client, f"/api/trigger/{publication['secret']}/trigger")
        assert trigger.post(json={"prompt": "hello"}).json()["prompt"] == "hello"
        yield trigger


def _query(wait: str | None, callback: str | None) -> dict[str, str]:
    query = {"wait": wait, "callback_url": callback}
    return {k: v for k, v in query.items() if v is not None}


def _check(answer: httpx.Response, server: LiveServer) -> None:
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code >= 400:
        assert "detail" in answer.json()
    with server.client() as client:
        assert client.get("/api/health").status_code == 200


@SETTINGS
@given(body=bodies, wait=waits, callback=callbacks, key=keys)
def test_random_json_bodies_never_give_a_server_error(
    server: LiveServer,
    call: Trigger,
    body: dict[str, Any],
    wait: str | None,
    callback: str | None,
    key: str | None,
) -> None:
    headers = {} if key is None else {"Idempotency-Key": key}
    answer = call.post(json=body, params=_query(wait, callback), headers=headers)
    _check(answer, server)


raw_bodies = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.sampled_from([b"{", b"[]", b'{"prompt": "\\ud800"}', b'{"prompt": 1e999}', b"NaN"]),
    st.integers(1, 100_000).map(lambda depth: b'{"meta": ' + b"[" * depth + b"]" * depth + b"}"),
    st.integers(1, 100_000).map(lambda depth: b"{" + b'"a":{' * depth + b"}" * (depth + 1)),
    st.integers(1, 20_000).map(lambda digits: b'{"count": ' + b"9" * digits + b"}"),
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "multipart/form-data; boundary=b",
        "",
    ]
)


@SETTINGS
@given(body=raw_bodies, content_type=content_types)
def test_random_raw_bodies_never_give_a_server_error(
    server: LiveServer, call: Trigger, body: bytes, content_type: str
) -> None:
    answer = call.post(content=body, headers={"content-type": content_type})
    _check(answer, server)


form_values = st.text(max_size=40) | st.sampled_from(["1", "true", "{}", "null", ""])
files = st.sampled_from(
    [hostile.GOOD_PNG, hostile.png_bomb(), hostile.truncated_jpeg(), hostile.SVG, b""]
)


@SETTINGS
@given(
    fields=st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), form_values, max_size=5),
    uploads=st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), files, max_size=3),
)
def test_random_multipart_forms_never_give_a_server_error(
    server: LiveServer, call: Trigger, fields: dict[str, str], uploads: dict[str, bytes]
) -> None:
    parts = {name: (f"{name}.png", data, "image/png") for name, data in uploads.items()}
    answer = call.post(data=fields, files=parts or {"": ("x", b"")})
    _check(answer, server)
