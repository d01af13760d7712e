"""Two Plait servers on one database and one Redis, as a scaled-out deployment runs them:
a run executing on one is followed live, waited for, repeated (Idempotency-Key) and
cancelled from the other; a Gemini key stored on one is used by the other's next run."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes.gemini import FakeGemini, Fault
from tests.integration.api import flows
from tests.server import LiveServer, admin_client, server_settings
from tests.services import free_port, redis_server

WAIT = 60  # seconds anything may take before the test fails
Pair = tuple[LiveServer, LiveServer]


@contextmanager
def two_servers(
    data_dir: Path, redis_url: str, gemini: FakeGemini, first: dict[str, Any] | None = None
) -> Iterator[Pair]:
    """Two servers on one data directory (SQLite file and blobs) and one Redis."""
    shared: dict[str, Any] = {
        "PLAIT_BASE_URL": None,
        "PLAIT_IMAGE_BACKEND": "gemini",
        "PLAIT_GEMINI_BASE_URL": gemini.base_url,
        "PLAIT_REDIS_URL": redis_url,
        "PLAIT_TRIGGER_WAIT": "3600",  # a waiter that missed its signal would wait this long
    }
    with (
        LiveServer(server_settings(data_dir, **shared, **(first or {}))) as one,
        LiveServer(server_settings(data_dir, **shared)) as two,
    ):
        for server in (one, two):
            server.settings.base_url = server.url
        yield one, two


@pytest.fixture
def pair(tmp_path: Path, redis_url: str, gemini_fake: FakeGemini) -> Iterator[Pair]:
    with two_servers(tmp_path / "data", redis_url, gemini_fake, {"GEMINI_API_KEY": "k"}) as both:
        yield both


@pytest.fixture
def hanging(gemini_fake: FakeGemini) -> threading.Event:
    """Set when the fake's next image call begins to hang (until `end_hangs`)."""
    began = threading.Event()
    gemini_fake.on_hang = began.set
    gemini_fake.fail(Fault.hang_for(WAIT * 2))
    return began


class Stream:
    """A run's live events from one server, read in a thread as they come."""

    def __init__(self, server_url: str, run_id: str):
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._read, args=(server_url, run_id), daemon=True)
        self._thread.start()

    def _read(self, server_url: str, run_id: str) -> None:
        events = f"/api/runs/{run_id}/events"
        with admin_client(server_url) as client, client.stream("GET", events) as s:
            for line in s.iter_lines():
                if line.startswith("data: "):
                    self._events.put(json.loads(line.removeprefix("data: ")))

    def until(self, kind: str, node_id: str | None = None) -> dict[str, Any]:
        """Read up to the first event of this kind (and node); fail after WAIT seconds."""
        while True:
            event = self._events.get(timeout=WAIT)
            self.seen.append(event)
            if event["kind"] == kind and event["node_id"] == node_id:
                return event

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(e["kind"], e["node_id"]) for e in self.seen]


def start_run(client: httpx.Client, flow_id: str) -> str:
    started = client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "a cat"}})
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    return run_id


def status(client: httpx.Client, run_id: str) -> str:
    found: str = client.get(f"/api/runs/{run_id}").json()["status"]
    return found


def until(check: Callable[[], bool], what: str) -> None:
    """Wait (on an event that never comes, so at most WAIT seconds) until `check` holds."""
    pause = threading.Event()
    for _ in range(WAIT * 20):
        if check():
            return
        pause.wait(0.05)
    raise AssertionError(f"gave up waiting until {what}")


def test_a_run_on_one_server_streams_live_on_the_other(
    pair: Pair, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    a, b = pair
    with a.admin() as on_a:
        run_id = start_run(on_a, flows.create(on_a, flows.image_endpoint()))
        assert hanging.wait(WAIT)
        stream = Stream(b.url, run_id)  # joins while the image call is in flight on `a`
        stream.until("node_started", "image")
        assert status(on_a, run_id) == "running"  # heard live, not replayed from a record
        assert ("node_finished", "trigger") in stream.kinds()  # what it missed, said again
        gemini_fake.end_hangs()
        image = stream.until("node_finished", "image")
        finished = stream.until("run_finished")
    assert finished["status"] == "succeeded"
    assert image["backend"] == "gemini"
    url = image["outputs"]["image"]["url"]
    assert url.startswith(b.url)  # a signed link of the streaming server
    with b.admin() as on_b:
        assert on_b.get(url).status_code == 200
    kinds = stream.kinds()
    assert kinds.count(("node_started", "image")) == 1  # each event said once
    assert kinds[-2:] == [("node_finished", "respond"), ("run_finished", None)]


def test_a_run_is_cancelled_from_the_other_server(
    pair: Pair, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    a, b = pair
    with a.admin() as on_a, b.admin() as on_b:
        run_id = start_run(on_a, flows.create(on_a, flows.image_endpoint()))
        assert hanging.wait(WAIT)
        stream = Stream(b.url, run_id)
        stream.until("node_started", "image")
        cancel = on_b.post(f"/api/runs/{run_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        # "cancelled" when `a` had not yet committed that it started the run: the signal
        # stops it all the same
        assert cancel.json()["status"] in ("cancelling", "cancelled")
        assert stream.until("run_finished")["status"] == "cancelled"
        assert status(on_a, run_id) == "cancelled"


def test_a_run_queued_on_one_server_and_cancelled_on_the_other_never_starts(
    tmp_path: Path, redis_url: str, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    one_at_a_time = {"GEMINI_API_KEY": "k", "PLAIT_RUN_CONCURRENCY": "1"}
    with (
        two_servers(tmp_path / "data", redis_url, gemini_fake, one_at_a_time) as (a, b),
        a.admin() as on_a,
        b.admin() as on_b,
    ):
        flow_id = flows.create(on_a, flows.image_endpoint())
        first = start_run(on_a, flow_id)
        assert hanging.wait(WAIT)
        queued = start_run(on_a, flow_id)  # waits on `a` for the first's slot
        cancel = on_b.post(f"/api/runs/{queued}/cancel")
        assert cancel.status_code == 202, cancel.text
        assert cancel.json()["status"] == "cancelled"
        gemini_fake.end_hangs()
        last = start_run(on_a, flow_id)  # takes the slot after the cancelled one's turn
        until(lambda: status(on_a, last) == "succeeded", "the last run succeeded")
        assert status(on_a, first) == "succeeded"
        cancelled = on_a.get(f"/api/runs/{queued}").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["nodes"] == []
    assert len(gemini_fake.generate_requests()) == 2  # the first run's and the last's


def test_a_waiting_trigger_and_an_idempotency_key_repeat_answer_when_the_run_settles(
    pair: Pair, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    a, b = pair
    with a.admin() as on_a:
        flow_id = flows.create(on_a, flows.image_endpoint())
        secret = flows.publish(on_a, flow_id)["secret"]
    url = f"/api/trigger/{secret}/trigger"
    key = {"Idempotency-Key": "order-17"}
    with a.client() as caller_a, b.client() as caller_b:
        queued = caller_a.post(url, params={"wait": "false"}, json={"prompt": "x"}, headers=key)
        assert queued.status_code == 202, queued.text
        run_id = queued.json()["run_id"]
        assert hanging.wait(WAIT)
        answers: queue.Queue[httpx.Response] = queue.Queue()
        repeat = threading.Thread(
            target=lambda: answers.put(caller_b.post(url, json={"prompt": "x"}, headers=key))
        )
        repeat.start()
        b_live = b.app.state.plait.live
        until(lambda: b_live.waited_for(run_id), "the repeat waits on the other server")
        gemini_fake.end_hangs()
        answer = answers.get(timeout=WAIT)  # not the trigger's wait of an hour
        repeat.join(WAIT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Plait-Run-Id"] == run_id
    assert answer.json()["image"].startswith(b.url)  # the run's result, linked from `b`
    assert len(gemini_fake.generate_requests()) == 1  # the repeat started nothing


def test_a_gemini_key_stored_on_one_server_is_used_by_the_others_next_run(
    tmp_path: Path, redis_url: str
) -> None:
    with (
        FakeGemini(api_key="AIza-the-stored-key-0001") as gemini,
        two_servers(tmp_path / "data", redis_url, gemini) as (a, b),
        a.admin() as on_a,
        b.admin() as on_b,
    ):
        assert on_b.get("/api/settings").json()["gemini_key"]["source"] is None
        stored = on_a.put("/api/settings/gemini-key", json={"key": "AIza-the-stored-key-0001"})
        assert stored.status_code == 200, stored.text
        until(
            lambda: on_b.get("/api/settings").json()["gemini_key"]["source"] == "stored",
            "the other server knows the stored key",
        )
        run_id = start_run(on_b, flows.create(on_b, flows.image_endpoint()))
        settled = ("succeeded", "failed", "cancelled")
        until(lambda: status(on_b, run_id) in settled, "the run on the other server settled")
        assert status(on_b, run_id) == "succeeded"
        sent = gemini.generate_requests()[-1].headers["x-goog-api-key"]
        assert sent == "AIza-the-stored-key-0001"
        deleted = on_a.delete("/api/settings/gemini-key")
        assert deleted.status_code == 200
        until(
            lambda: on_b.get("/api/settings").json()["gemini_key"]["source"] is None,
            "the other server forgot the deleted key",
        )


def test_when_redis_dies_a_stream_on_the_other_server_still_ends_from_the_record(
    tmp_path: Path, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    with (
        redis_server() as redis,
        two_servers(tmp_path / "data", redis.url(), gemini_fake, {"GEMINI_API_KEY": "k"}) as (
            a,
            b,
        ),
        a.admin() as on_a,
    ):
        run_id = start_run(on_a, flows.create(on_a, flows.image_endpoint()))
        assert hanging.wait(WAIT)
        redis.process.kill()
        redis.process.wait()
        stream = Stream(b.url, run_id)  # cannot listen for relayed events: reads the record
        gemini_fake.end_hangs()  # `a` finishes the run; saying so through Redis fails
        finished = stream.until("run_finished")
    assert finished["status"] == "succeeded"
    assert ("node_finished", "image") in stream.kinds()


def test_a_server_whose_redis_cannot_be_reached_does_not_start(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    with (
        pytest.raises(RuntimeError, match="did not start"),
        LiveServer(server_settings(tmp_path / "data", PLAIT_REDIS_URL=nowhere)),
    ):
        pass
    said = capfd.readouterr().err
    assert "cannot listen to signal channel" in said
    assert "on Redis (PLAIT_REDIS_URL)" in said
