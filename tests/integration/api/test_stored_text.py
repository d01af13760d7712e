"""Text that no database column can hold — a NUL character, more characters than the
column's length — is a 422 naming the field on every database, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.api import flows
from tests.server import LiveServer, server_settings
from tests.services import Postgres

NUL = "a\x00b"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def text_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per database for the module: each test refuses text or stores its own."""
    folder = tmp_path_factory.mktemp("stored-text")
    url = f"sqlite+aiosqlite:///{folder / 'plait.db'}"
    postgres: Postgres | None = None
    if request.param == "postgres":
        postgres = request.getfixturevalue("postgres")
        url = postgres.new_database()
    with LiveServer(server_settings(folder / "data", PLAIT_DATABASE_URL=url)) as live:
        yield live
    if postgres is not None:
        postgres.drop_database(url)


@pytest.fixture(scope="module")
def signed_in(text_server: LiveServer) -> Iterator[httpx.Client]:
    client = text_server.admin()
    yield client
    client.close()


def _refused(answer: httpx.Response, field: str) -> None:
    assert answer.status_code == 422, answer.text
    locations = [error["loc"] for error in answer.json()["detail"]]
    assert any(location[-1] == field for location in locations), locations


def _named(document: dict[str, Any], **fields: str) -> dict[str, Any]:
    return {**document, **fields}


def test_a_nul_in_a_login_email_is_a_422(text_server: LiveServer) -> None:
    with text_server.client() as client:
        answer = client.post("/api/auth/login", json={"email": f"{NUL}@x.io", "password": "p"})
    _refused(answer, "email")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": NUL}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"description": NUL}, "description"),
    ],
)
def test_flow_names_and_descriptions_must_be_storable(
    signed_in: httpx.Client, fields: dict[str, str], field: str
) -> None:
    document = _named(flows.echo(), **fields)
    before = signed_in.get("/api/flows").json()
    answer = signed_in.post("/api/flows", json={"document": document})
    assert answer.status_code == 422, answer.text
    assert field in answer.text
    assert signed_in.get("/api/flows").json() == before  # nothing stored


def test_a_200_character_flow_name_is_stored(signed_in: httpx.Client) -> None:
    answer = signed_in.post("/api/flows", json={"document": _named(flows.echo(), name="n" * 200)})
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "n" * 200


@pytest.mark.parametrize("message", [NUL, "m" * 501])
def test_version_messages_must_be_storable(signed_in: httpx.Client, message: str) -> None:
    flow_id = flows.create(signed_in, flows.echo())
    answer = signed_in.put(
        f"/api/flows/{flow_id}", json={"document": flows.echo("v2"), "message": message}
    )
    _refused(answer, "message")


@pytest.mark.parametrize("name", [NUL, "t" * 201])
def test_token_names_must_be_storable(signed_in: httpx.Client, name: str) -> None:
    _refused(signed_in.post("/api/tokens", json={"name": name}), "name")


def test_a_run_s_trigger_id_must_be_storable(signed_in: httpx.Client) -> None:
    flow_id = flows.create(signed_in, flows.echo())
    for trigger_id in (NUL, "t" * 65):
        answer = signed_in.post(f"/api/flows/{flow_id}/runs", json={"trigger_id": trigger_id})
        _refused(answer, "trigger_id")


@pytest.mark.parametrize(
    "path", ["/api/flows/a%00b", "/api/runs/a%00b", "/api/flows?x=%00", "/api/tokens/a%00b"]
)
def test_a_nul_in_a_url_is_a_422(signed_in: httpx.Client, path: str) -> None:
    method = "DELETE" if path.startswith("/api/tokens") else "GET"
    answer = signed_in.request(method, path)
    assert answer.status_code == 422, answer.text
    assert "NUL" in answer.json()["detail"][0]["msg"]


def test_a_nul_in_a_trigger_s_json_input_is_data_and_is_stored(
    text_server: LiveServer, signed_in: httpx.Client
) -> None:
    """JSON values are stored as JSON (escaped): a NUL in a caller's input is kept."""
    secret = flows.publish(signed_in, flows.create(signed_in, flows.echo()))["secret"]
    with text_server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": NUL})
    assert answer.status_code == 200, answer.text
    assert answer.json()["prompt"] == NUL
    run = signed_in.get(f"/api/runs/{answer.headers['X-Plait-Run-Id']}").json()
    assert run["inputs"]["prompt"] == NUL
