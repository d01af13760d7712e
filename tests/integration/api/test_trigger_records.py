"""What a trigger call has recorded by the time it matters: before a paid call is made,
and by the time the caller has the answer."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from plait.store.tables import Run
from tests import loopback
from tests.fakes.gemini import FakeGemini
from tests.helpers import stored_rows, until
from tests.integration.api import flows
from tests.server import LiveServer, server_settings


def test_the_answer_of_a_sync_call_is_already_in_the_run_record(
    server: LiveServer, admin: httpx.Client
) -> None:
    secret = flows.publish(admin, flows.create(admin, flows.echo()))["secret"]
    with server.client() as caller:
        for prompt in ("one", "two", "three"):
            answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": prompt})
            assert answer.status_code == 200, answer.text
            run = admin.get(f"/api/runs/{answer.headers['X-Plait-Run-Id']}").json()
            assert run["status"] == "succeeded"
            assert run["result"] == {"prompt": prompt, "label": "v1"}
            assert {n["node_id"]: n["status"] for n in run["nodes"]} == {
                "trigger": "succeeded",
                "respond": "succeeded",
            }


@dataclass
class HeldCall:
    """A published caller whose run's Gemini call waits in the fake (held for a second
    party); `answers` gets the caller's answer once the call ends."""

    admin: httpx.Client
    caller: threading.Thread
    answers: list[httpx.Response]


@contextmanager
def held_call(tmp_path: Path, gemini_fake: FakeGemini) -> Iterator[HeldCall]:
    settings = server_settings(
        tmp_path,
        PLAIT_IMAGE_BACKEND="gemini",
        GEMINI_API_KEY="k",
        PLAIT_GEMINI_BASE_URL=gemini_fake.base_url,
    )
    gemini_fake.hold(2)  # the server's call waits in the fake until a second one arrives
    with LiveServer(settings) as server, server.admin() as admin:
        secret = flows.publish(admin, flows.create(admin, flows.image_endpoint()))["secret"]
        answers: list[httpx.Response] = []

        def call() -> None:
            with server.client() as caller:
                answers.append(caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "a"}))

        caller = threading.Thread(target=call)
        caller.start()
        until(lambda: len(gemini_fake.generate_requests()) == 1, "the server's Gemini call")
        yield HeldCall(admin, caller, answers)


def _runs(tmp_path: Path, column: str) -> list[str]:
    names = list(Run.__table__.columns.keys())
    return [row[names.index(column)] for row in stored_rows(tmp_path, "runs")["runs"]]


def test_a_flow_that_calls_gemini_is_recorded_before_the_call(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    with held_call(tmp_path, gemini_fake) as held:
        statuses = _runs(tmp_path, "status")
        loopback.post(  # the second party: releases both
            f"{gemini_fake.base_url}/v1beta/models/gemini-2.5-flash-image:generateContent",
            json={"contents": [{"parts": [{"text": "release"}]}]},
            headers={"x-goog-api-key": "k"},
            timeout=30,
        )
        held.caller.join(30)
    assert statuses in (["queued"], ["running"])  # committed before the call went out
    assert held.answers[0].status_code == 200, held.answers[0].text


def test_a_run_cancelled_while_its_caller_waits_answers_503_saying_so(
    tmp_path: Path, gemini_fake: FakeGemini
) -> None:
    with held_call(tmp_path, gemini_fake) as held:
        [run_id] = _runs(tmp_path, "id")
        assert held.admin.post(f"/api/runs/{run_id}/cancel").status_code == 202
        held.caller.join(30)
        gemini_fake.hold(None)

    [answer] = held.answers
    assert answer.status_code == 503, answer.text
    assert answer.headers["x-plait-run-id"] == run_id
    assert answer.json() == {
        "detail": f"run {run_id} was cancelled on the server (by an operator, or the server "
        "stopping) before it finished; nothing was made. Send the request again.",
        "run_id": run_id,
        "status": "cancelled",
    }
