"""A trigger URL opened with GET (a browser's address bar) says it takes POST."""

from __future__ import annotations

import httpx

from tests.integration.api import flows
from tests.server import LiveServer


def test_get_on_a_trigger_url_answers_405_allowing_post(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = flows.publish(admin, flows.create(admin, flows.echo()))["secret"]
    with server.client() as caller:
        for url in (f"/api/trigger/{secret}/trigger", "/api/trigger/unknown/trigger"):
            answer = caller.get(url)
            assert answer.status_code == 405, url
            assert answer.headers["allow"] == "POST"
            assert "POST" in answer.json()["detail"]
        served = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "still"})
        assert served.json()["prompt"] == "still"
