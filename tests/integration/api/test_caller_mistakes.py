"""A caller's mistakes are a 4xx with a message, never a 500 (issue: hardening, finding 2):
JSON nested too deeply or holding too long a number, on the public trigger, in a batch's
JSONL rows and in any JSON body."""

from __future__ import annotations

import httpx
import pytest

from plait.jsonlimits import MAX_DEPTH, MAX_NUMBER_CHARS
from tests.integration.api import flows
from tests.server import LiveServer

JSON = {"content-type": "application/json"}
DEEP = "[" * 100_000 + "]" * 100_000
JUST_TOO_DEEP = '{"prompt": ' + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "}"
LONG_NUMBER = '{"prompt": ' + "7" * 5000 + "}"


SHARED_SERVER = True  # each test makes, and looks only at, its own flows


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (DEEP, f"deeper than {MAX_DEPTH} levels"),
        (JUST_TOO_DEEP, f"deeper than {MAX_DEPTH} levels"),
        (LONG_NUMBER, f"at most {MAX_NUMBER_CHARS}"),
    ],
    ids=["100,000 deep", "one level too deep", "5,000 digits"],
)
def test_the_public_trigger_refuses_json_past_its_limits(
    server: LiveServer, admin: httpx.Client, body: str, says: str
) -> None:
    flow_id = flows.create(admin, flows.echo())
    secret = flows.publish(admin, flow_id)["secret"]
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", content=body, headers=JSON)
    assert answer.status_code == 400, answer.text
    assert says in answer.json()["detail"]
    assert admin.get("/api/runs", params={"flow_id": flow_id}).json() == []


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('{"prompt": ' + "[" * 5000 + "]" * 5000 + "}", "deeper than"),
        ('{"prompt": ' + "9" * 5000 + "}", "at most"),
    ],
    ids=["deep", "long number"],
)
def test_batch_jsonl_rows_past_the_limits_are_refused_naming_the_line(
    admin: httpx.Client, line: str, says: str
) -> None:
    flow_id = flows.create(admin, flows.echo())
    rows = ("rows.jsonl", ('{"prompt": "fine"}\n' + line + "\n").encode(), "application/json")
    for route in ("batches/estimate", "batches"):
        answer = admin.post(f"/api/flows/{flow_id}/{route}", files={"rows": rows})
        assert answer.status_code == 422, answer.text
        detail = answer.json()["detail"]
        assert "line 2" in detail
        assert says in detail


@pytest.mark.parametrize("body", [DEEP, '{"document": ' + "1" * 5000 + "}"], ids=["deep", "long"])
def test_any_json_body_past_the_limits_is_a_400_saying_why(admin: httpx.Client, body: str) -> None:
    for method, path in (("POST", "/api/flows"), ("POST", "/api/validate")):
        answer = admin.request(method, path, content=body, headers=JSON)
        assert answer.status_code == 400, (path, answer.text)
        detail = answer.json()["detail"]
        assert "nested deeper" in detail or "number" in detail, detail
