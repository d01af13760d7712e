"""A published flow's daily budget, over real HTTP against the fake Gemini: the call that
would go over is refused with 429, runs in flight count, previews are free, the day resets."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.gemini import FakeGemini
from tests.helpers import until
from tests.integration.api import flows
from tests.integration.test_cli import plait
from tests.server import LiveServer

PRICE = 0.039  # gemini-2.5-flash-image, per image: the estimate of one run of image_endpoint


def _published(admin: httpx.Client, **settings: Any) -> tuple[str, str]:
    flow_id = flows.create(admin, flows.image_endpoint())
    publication = flows.publish(admin, flow_id, **settings)
    return flow_id, f"/api/trigger/{publication['secret']}/trigger"


def _set_clock(server: LiveServer, clock: Callable[[], datetime]) -> None:
    server.app.state.plait.budgets.clock = clock


def _recorded_costs(admin: httpx.Client, flow_id: str) -> list[float]:
    runs = admin.get("/api/runs", params={"flow_id": flow_id}).json()
    return [run["cost_usd"] for run in runs]


def test_the_call_that_would_exceed_the_budget_is_refused_with_a_clear_429(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    now = datetime.now(UTC).replace(hour=22, minute=0, second=0, microsecond=0)
    _set_clock(gemini_server, lambda: now)
    with gemini_server.admin() as admin, gemini_server.client() as caller:
        flow_id, url = _published(admin, daily_budget_usd=0.10)
        first = caller.post(url, json={"prompt": "one"})
        second = caller.post(url, json={"prompt": "two"})
        third = caller.post(url, json={"prompt": "three"})
        costs = _recorded_costs(admin, flow_id)
    assert (first.status_code, second.status_code) == (200, 200), second.text
    assert third.status_code == 429
    assert len(gemini_fake.generate_requests()) == 2  # the refused call never reached Gemini
    body = third.json()
    assert body["error"] == "daily_budget_exceeded"
    assert body["flow_id"] == flow_id
    assert body["daily_budget_usd"] == 0.10
    assert len(costs) == 2
    assert all(cost > 0 for cost in costs)
    assert body["spent_usd"] == pytest.approx(sum(costs), abs=1e-6)
    assert body["in_flight_usd"] == 0
    assert body["estimate_usd"] == pytest.approx(PRICE)
    midnight = (now + timedelta(days=1)).replace(hour=0)
    assert body["resets_at"] == midnight.isoformat()
    assert third.headers["retry-after"] == str(2 * 3600)  # 22:00 → midnight UTC
    assert "daily budget of $0.10" in body["detail"]
    assert "plait flows budget" in body["detail"]  # what to do about it


def test_runs_in_flight_hold_their_estimate(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    gemini_fake.hold(3)  # no image call answers before three are in flight
    with gemini_server.admin() as admin, gemini_server.client() as caller:
        flow_id, url = _published(admin, daily_budget_usd=0.10)
        accepted = [
            caller.post(url, params={"wait": "false"}, json={"prompt": p}) for p in ("a", "b")
        ]
        refused = caller.post(url, json={"prompt": "c"})
        assert [a.status_code for a in accepted] == [202, 202]
        assert refused.status_code == 429
        assert refused.json()["spent_usd"] == 0
        assert refused.json()["in_flight_usd"] == pytest.approx(2 * PRICE)
        changed = admin.patch(f"/api/flows/{flow_id}/publication", json={"daily_budget_usd": 1})
        assert changed.json()["daily_budget_usd"] == 1
        third = caller.post(url, json={"prompt": "c"})  # the third party: all three answer
        assert third.status_code == 200, third.text
        urls = [answer.json()["status_url"] for answer in accepted]

        def settled() -> bool:
            return all(caller.get(u).json()["status"] == "succeeded" for u in urls)

        def spending() -> dict[str, float]:
            answer = admin.get(f"/api/flows/{flow_id}/publication").json()
            today: dict[str, float] = answer["spending_today"]
            return today

        until(settled, "the two runs accepted first")
        costs = _recorded_costs(admin, flow_id)
        until(lambda: spending()["in_flight_usd"] == 0, "the runs to settle their estimates")
        spent = spending()["spent_usd"]
    assert len(costs) == 3
    assert spent == pytest.approx(sum(costs), abs=1e-6)


def test_preview_runs_cost_nothing(server: LiveServer, admin: httpx.Client) -> None:
    flow_id, url = _published(admin, daily_budget_usd=0)
    with server.client() as caller:
        answers = [caller.post(url, json={"prompt": f"p{n}"}).status_code for n in range(3)]
    publication = admin.get(f"/api/flows/{flow_id}/publication").json()
    assert answers == [200, 200, 200]
    assert publication["daily_budget_usd"] == 0
    assert publication["spending_today"]["spent_usd"] == 0


def test_the_budget_resets_at_utc_midnight(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    today = datetime.now(UTC)
    late = today.replace(hour=23, minute=59, second=30, microsecond=250_000)
    clock = {"now": late}
    _set_clock(gemini_server, lambda: clock["now"])
    with gemini_server.admin() as admin, gemini_server.client() as caller:
        _, url = _published(admin, daily_budget_usd=0.05)
        assert caller.post(url, json={"prompt": "today"}).status_code == 200
        refused = caller.post(url, json={"prompt": "still today"})
        assert refused.status_code == 429
        assert refused.headers["retry-after"] == str(math.ceil(29.75))
        clock["now"] = (late + timedelta(days=1)).replace(hour=0, minute=0, second=1)
        tomorrow = caller.post(url, json={"prompt": "tomorrow"})
    assert tomorrow.status_code == 200, tomorrow.text
    assert len(gemini_fake.generate_requests()) == 2


def test_refused_or_repeated_calls_spend_nothing(
    gemini_server: LiveServer, gemini_fake: FakeGemini
) -> None:
    with gemini_server.admin() as admin, gemini_server.client() as caller:
        flow_id, url = _published(admin, daily_budget_usd=0.05)
        assert caller.post(url, json={"wrong": "field"}).status_code == 422
        key = {"Idempotency-Key": "order-1"}
        first = caller.post(url, json={"prompt": "x"}, headers=key)
        assert first.status_code == 200, first.text
        repeated = caller.post(url, json={"prompt": "x"}, headers=key)
        spending = admin.get(f"/api/flows/{flow_id}/publication").json()["spending_today"]
    assert repeated.status_code == 200  # the first run's answer: nothing new is spent
    assert len(gemini_fake.generate_requests()) == 1
    assert spending["in_flight_usd"] == 0
    assert spending["spent_usd"] == pytest.approx(
        sum(_recorded_costs_of(gemini_server, flow_id)), abs=1e-6
    )


def _recorded_costs_of(server: LiveServer, flow_id: str) -> list[float]:
    with server.admin() as admin:
        return _recorded_costs(admin, flow_id)


def test_changing_the_budget_needs_a_published_flow(admin: httpx.Client) -> None:
    flow_id = flows.create(admin, flows.echo())
    refused = admin.patch(f"/api/flows/{flow_id}/publication", json={"daily_budget_usd": 3})
    assert refused.status_code == 404
    assert "publish it first" in refused.json()["detail"]
    flows.publish(admin, flow_id)
    assert admin.get(f"/api/flows/{flow_id}/publication").json()["daily_budget_usd"] is None
    negative = admin.patch(f"/api/flows/{flow_id}/publication", json={"daily_budget_usd": -1})
    assert negative.status_code == 422
    removed = admin.patch(f"/api/flows/{flow_id}/publication", json={"daily_budget_usd": None})
    assert removed.json()["daily_budget_usd"] is None


def test_the_cli_sets_shows_and_removes_the_budget(
    server: LiveServer, admin: httpx.Client, tmp_path: Path
) -> None:
    token = admin.post("/api/tokens", json={"name": "cli"}).json()["token"]
    env = {"PLAIT_URL": server.url, "PLAIT_TOKEN": token}
    flow_id = flows.create(admin, flows.echo())
    published = plait("flows", "publish", flow_id, "--daily-budget", "2.5", cwd=tmp_path, env=env)
    assert published.returncode == 0, published.stderr
    assert "daily budget $2.50; $0.0000 spent today" in published.stderr
    shown = plait("flows", "budget", flow_id, cwd=tmp_path, env=env)
    assert "daily budget $2.50" in shown.stdout
    changed = plait("flows", "budget", flow_id, "0.75", cwd=tmp_path, env=env)
    assert "daily budget $0.75" in changed.stdout
    removed = plait("flows", "budget", flow_id, "--remove", cwd=tmp_path, env=env)
    assert "no daily budget" in removed.stdout
    publication = admin.get(f"/api/flows/{flow_id}/publication").json()
    assert publication["daily_budget_usd"] is None
