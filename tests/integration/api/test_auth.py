"""Signing in, CSRF, API tokens, first-run set-up, and 401 on every private route."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from plait.access.first_admin import AdminSetupError
from plait.access.signin import SignIns
from plait.api import create_app
from plait.api.auth import PUBLIC_ROUTES
from plait.crypto.passwords import verify_password
from tests.server import ADMIN_EMAIL, ADMIN_PASSWORD, LiveServer, server_settings


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every API route, through included routers, from the app's table."""
    return {
        (method, str(context.path))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.route, APIRoute)
        for method in context.methods or ()
        if method != "HEAD"
    }


def test_every_private_route_answers_401_without_credentials(server: LiveServer) -> None:
    private = sorted(api_routes(server.app) - PUBLIC_ROUTES)
    assert len(private) > 25  # the table is really enumerated
    with server.client() as client:
        for method, path in private:
            answer = client.request(method, _concrete(path), json={})
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert "sign in" in answer.json()["detail"]


def test_public_routes_are_exactly_the_documented_ones(server: LiveServer) -> None:
    assert api_routes(server.app) >= PUBLIC_ROUTES


def test_login_sets_a_session_and_unsafe_requests_need_the_csrf_header(
    server: LiveServer,
) -> None:
    with server.client() as client:
        wrong = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": "not it at all"}
        )
        assert wrong.status_code == 401
        answer = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        assert answer.status_code == 200
        csrf = answer.json()["csrf_token"]
        assert "httponly" in answer.headers["set-cookie"].lower()
        assert client.get("/api/flows").status_code == 200
        refused = client.post("/api/tokens", json={"name": "x"})
        assert refused.status_code == 403
        assert "X-CSRF-Token" in refused.json()["detail"]
        accepted = client.post("/api/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf})
        assert accepted.status_code == 201
        assert client.post("/api/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
        assert client.get("/api/flows").status_code == 401


def test_api_tokens_are_shown_once_work_as_bearer_and_can_be_revoked(
    server: LiveServer, admin: httpx.Client
) -> None:
    created = admin.post("/api/tokens", json={"name": "ci"}).json()
    token = created["token"]
    assert token.startswith("plait_")
    listed = admin.get("/api/tokens").json()
    assert [t["name"] for t in listed] == ["ci"]
    assert token not in str(listed)
    assert listed[0]["hint"] == "…" + token[-4:]
    with server.client(headers={"Authorization": f"Bearer {token}"}) as script:
        assert script.get("/api/flows").status_code == 200
        assert script.post("/api/tokens", json={"name": "no csrf needed"}).status_code == 201
        assert admin.delete(f"/api/tokens/{created['id']}").status_code == 204
        assert script.get("/api/flows").status_code == 401
    with server.client(headers={"Authorization": "Bearer plait_made_up"}) as guess:
        assert guess.get("/api/flows").status_code == 401


def test_first_start_without_an_admin_offers_a_one_time_setup_link(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = server_settings(tmp_path, PLAIT_ADMIN_EMAIL=None, PLAIT_ADMIN_PASSWORD=None)
    with LiveServer(settings) as server, server.client() as client:
        printed = capfd.readouterr().err
        token = re.search(r"/setup\?token=(\S+)", printed)
        assert token is not None, printed
        assert client.get("/api/auth/state").json()["setup_required"] is True
        body = {"email": "owner@example.com", "password": "long enough pw"}
        assert client.post("/api/auth/setup", json={**body, "token": "wrong"}).status_code == 403
        made = client.post("/api/auth/setup", json={**body, "token": token.group(1)})
        assert made.status_code == 200, made.text
        assert made.json()["user"]["is_admin"] is True
        assert client.get("/api/flows").status_code == 200  # signed in by set-up
        again = client.post("/api/auth/setup", json={**body, "token": token.group(1)})
        assert again.status_code == 403
        assert client.get("/api/auth/state").json()["setup_required"] is False


def test_health_is_public(server: LiveServer) -> None:
    with server.client() as client:
        assert client.get("/api/health").json()["status"] == "ok"


def test_unknown_api_paths_are_404_not_the_canvas(server: LiveServer) -> None:
    with server.client() as client:
        assert client.get("/api/no-such-route").status_code == 404
        assert client.get("/files").status_code == 404
        page = client.get("/flows/anything")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")


def _from(server: LiveServer, address: str) -> httpx.Client:
    """A client whose requests come from `address` (any of 127.0.0.0/8 reaches loopback)."""
    return server.client(transport=httpx.HTTPTransport(local_address=address))


def _login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post("/api/auth/login", json={"email": email, "password": password})


def test_password_guessing_from_one_address_does_not_lock_the_owner_out(
    server: LiveServer,
) -> None:
    with _from(server, "127.0.0.1") as guesser, _from(server, "127.0.0.2") as owner:
        codes = [_login(guesser, ADMIN_EMAIL, f"guess {i}").status_code for i in range(11)]
        assert codes == [401] * 10 + [429]
        held = _login(guesser, ADMIN_EMAIL, ADMIN_PASSWORD)
        assert held.status_code == 429  # this address waits out the window
        assert int(held.headers["retry-after"]) >= 1
        assert _login(owner, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_guessing_many_accounts_from_one_address_is_slowed_down(server: LiveServer) -> None:
    with _from(server, "127.0.0.3") as sprayer, _from(server, "127.0.0.4") as other:
        codes = [
            _login(sprayer, f"user{i}@example.com", "password1").status_code for i in range(21)
        ]
        assert codes == [401] * 20 + [429]
        assert _login(other, "u0@example.com", "password1").status_code == 401


def test_unknown_accounts_cost_the_same_password_work(server: LiveServer) -> None:
    verified: list[str] = []

    def counting(stored: str, password: str) -> bool:
        verified.append(stored)
        return verify_password(stored, password)

    server.app.state.plait.signins = SignIns(verify=counting)
    with server.client() as client:
        assert _login(client, "nobody@example.com", "whatever it is").status_code == 401
        assert _login(client, ADMIN_EMAIL, "not the password").status_code == 401
    assert len(verified) == 2  # one Argon2 verification each, known account or not


def test_an_admin_password_from_the_environment_obeys_the_setup_rules(tmp_path: Path) -> None:
    with pytest.raises(AdminSetupError, match="PLAIT_ADMIN_PASSWORD: a password needs at least 8"):
        create_app(server_settings(tmp_path, PLAIT_ADMIN_PASSWORD="a"))
