"""Schemathesis against the running server's own OpenAPI document: no operation answers
5xx, whatever valid or invalid input it gets. Signed in with an API token (Bearer).

Bounded and repeatable: 60 generated examples per operation (derandomized), plus the
coverage phase's boundary values and wrong types for each parameter; about 35 s for the
51 operations. In about half the cases a path's flow, run or trigger secret is one that
exists, so routes do their real work. The trigger's body is read by hand, so the document
does not describe it: here it is declared as any JSON object, and schemathesis sends the
public trigger random (nested) objects too; `test_trigger_fuzz.py` adds raw bytes, forms
and bodies nested 100,000 deep.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings

from plait.api import create_app
from tests.fakes.gemini import FakeGemini
from tests.integration.api import flows
from tests.server import LiveServer, server_settings


@dataclass(frozen=True)
class Known:
    """The server under test and ids that exist on it."""

    live: LiveServer
    token: str
    ids: dict[str, str]  # path parameter -> a value that exists


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Known]:
    """A server with a published flow that has run once, and an API token. Gemini is the
    fake (a fuzzed PUT /api/settings/gemini-key switches runs to Gemini: they stay local)."""
    data = tmp_path_factory.mktemp("fuzz") / "data"
    with FakeGemini() as gemini:
        settings = server_settings(data, PLAIT_BASE_URL=None, PLAIT_GEMINI_BASE_URL=gemini.base_url)
        with LiveServer(settings) as live, live.admin() as admin:
            live.settings.base_url = live.url
            flow_id = flows.create(admin, flows.echo())
            secret = flows.publish(admin, flow_id, rate_limit_per_minute=1_000_000)["secret"]
            run = admin.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"})
            body = {"name": "schemathesis", "scopes": ["admin"]}  # every route, not 403s
            token = admin.post("/api/tokens", json=body).json()["token"]
            ids = {
                "flow_id": flow_id,
                "secret": secret,
                "node_id": "trigger",
                "run_id": run.headers["X-Plait-Run-Id"],
            }
            yield Known(live, token, ids)


def _openapi_document() -> dict[str, Any]:
    """The document the server serves at /openapi.json, built the same way (the app is
    not started: no data dir is touched). Collection needs the operations before any
    server runs; schemathesis's lazy loader from a fixture does not work with pytest 9."""
    document = create_app(server_settings(Path("unused"))).openapi()
    trigger = document["paths"]["/api/trigger/{secret}/{node_id}"]["post"]
    trigger.setdefault("requestBody", {"content": {"application/json": {"schema": ANY_OBJECT}}})
    return document


# The trigger's fields as schemathesis sees them: any JSON object, values of any type
ANY_OBJECT = {"type": "object", "additionalProperties": True}


schema = schemathesis.openapi.from_dict(_openapi_document())


@schema.parametrize()
@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same cases on every run: a failure here is a real, repeatable bug
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: schemathesis.Case[Any], fuzzed: Known) -> None:
    _use_known_ids(case, fuzzed)
    response = case.call(
        base_url=fuzzed.live.url, headers={"Authorization": f"Bearer {fuzzed.token}"}, timeout=30
    )
    assert response.status_code < 500, (
        f"{response.status_code} {response.text[:500]}\n{case.as_curl_command()}"
    )


def _use_known_ids(case: schemathesis.Case[Any], known: Known) -> None:
    """Random ids only reach the 404s: in about half the cases (decided by the generated
    value, so runs repeat), use an id that exists, and the route's real work is fuzzed.
    Not for what would spoil the ids for later cases: DELETE, unpublish, rotate-secret."""
    spoils = case.method.upper() == "DELETE" or case.path.endswith(("unpublish", "rotate-secret"))
    if spoils or not case.path_parameters:
        return
    for name, value in known.ids.items():
        generated = case.path_parameters.get(name)
        if generated is not None and len(str(generated)) % 2 == 0:
            case.path_parameters[name] = value
