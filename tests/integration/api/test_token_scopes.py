"""API tokens have scopes and an optional expiry; a token cannot mint a wider one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update

from plait.access import scopes
from plait.access.scopes import Scope
from plait.api.auth import PUBLIC_ROUTES
from plait.store.db import sync_engine
from plait.store.tables import ApiToken
from tests.integration.api import flows
from tests.integration.api.test_auth import _concrete, api_routes
from tests.server import LiveServer


def _token(admin: httpx.Client, *scope: str, **extra: Any) -> str:
    answer = admin.post("/api/tokens", json={"name": "t", "scopes": list(scope), **extra})
    assert answer.status_code == 201, answer.text
    token: str = answer.json()["token"]
    return token


def _bearer(server: LiveServer, token: str) -> httpx.Client:
    return server.client(headers={"Authorization": f"Bearer {token}"})


def test_every_private_route_refuses_a_token_without_its_scope(
    server: LiveServer, admin: httpx.Client
) -> None:
    """For each scope, a token holding only it gets 403 on exactly the routes it lacks."""
    private = sorted(api_routes(server.app) - PUBLIC_ROUTES)
    for scope in (Scope.RUN, Scope.READ, Scope.WRITE):
        with _bearer(server, _token(admin, scope)) as client:
            for method, path in private:
                answer = client.request(method, _concrete(path), json={})
                refused = answer.status_code == 403 and "scope" in answer.json()["detail"]
                assert refused == (not scopes.allows({scope}, method, path)), (
                    scope,
                    method,
                    path,
                    answer.status_code,
                )


def test_a_run_token_runs_flows_but_cannot_edit_mint_wider_or_change_the_key(
    server: LiveServer, admin: httpx.Client
) -> None:
    flow_id = flows.create(admin, flows.echo())
    with _bearer(server, _token(admin, "run")) as runner:
        assert runner.get("/api/flows").status_code == 200
        started = runner.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "hi"}})
        assert started.status_code == 202, started.text
        assert runner.get(f"/api/runs/{started.json()['run_id']}").status_code == 200
        draft = runner.post(f"/api/flows/{flow_id}/runs", json={"document": flows.echo("x")})
        assert draft.status_code == 403  # any graph is for tokens that may edit flows
        assert "'write' scope" in draft.json()["detail"]
        refused = runner.post("/api/flows", json={"document": {}})
        assert refused.status_code == 403
        assert "'write'" in refused.json()["detail"]
        assert (
            runner.put("/api/settings/gemini-key", json={"key": "AIza" + "x" * 35}).status_code
            == 403
        )
        assert runner.get("/api/tokens").status_code == 403
        wider = runner.post("/api/tokens", json={"name": "w", "scopes": ["run", "write"]})
        assert wider.status_code == 403
        assert "within its own scopes" in wider.json()["detail"]
        same = runner.post("/api/tokens", json={"name": "r", "scopes": ["run"]})
        assert same.status_code == 201
        assert same.json()["scopes"] == ["run"]
    with _bearer(server, _token(admin, "write")) as writer:
        assert (
            writer.post("/api/tokens", json={"name": "a", "scopes": ["admin"]}).status_code == 403
        )
        assert writer.post("/api/tokens", json={"name": "r", "scopes": ["read"]}).status_code == 201
        assert writer.delete("/api/settings/gemini-key").status_code == 403
    with _bearer(server, _token(admin, "admin")) as owner:
        assert owner.get("/api/tokens").status_code == 200
        assert owner.post("/api/tokens", json={"name": "a", "scopes": ["admin"]}).status_code == 201


def test_tokens_expire_and_an_expiring_token_mints_none_that_outlives_it(
    server: LiveServer, admin: httpx.Client
) -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    past = admin.post(
        "/api/tokens",
        json={"name": "old", "expires_at": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()},
    )
    assert past.status_code == 422
    token = _token(admin, "read", "run", expires_at=soon.isoformat())
    with _bearer(server, token) as client:
        assert client.get("/api/flows").status_code == 200
        forever = client.post("/api/tokens", json={"name": "f", "scopes": ["read"]})
        assert forever.status_code == 403
        assert "expire" in forever.json()["detail"]
        later = (soon + timedelta(days=1)).isoformat()
        answer = client.post(
            "/api/tokens", json={"name": "f", "scopes": ["read"], "expires_at": later}
        )
        assert answer.status_code == 403
    listed = {t["name"]: t for t in admin.get("/api/tokens").json()}
    assert listed["t"]["scopes"] == ["run", "read"]
    assert listed["t"]["expires_at"] is not None
    assert listed["t"]["last_used_at"] is not None


def test_an_expired_token_is_refused(server: LiveServer, admin: httpx.Client) -> None:
    token = _token(admin, "read", expires_at=(datetime.now(UTC) + timedelta(hours=1)).isoformat())
    with _bearer(server, token) as client:
        assert client.get("/api/flows").status_code == 200
        engine = sync_engine(server.settings.sqlalchemy_url)
        with engine.begin() as connection:  # the hour has passed
            connection.execute(
                update(ApiToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        engine.dispose()
        assert client.get("/api/flows").status_code == 401
