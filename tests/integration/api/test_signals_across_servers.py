"""Two Plait servers on one database and one Redis, as a scaled-out deployment runs them:
a run executing on one is followed live, waited for, repeated (Idempotency-Key) and
cancelled from the other; a Gemini key stored on one is used by the other's next run."""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from saq import Queue

from tests import helpers
from tests.fakes.gemini import FakeGemini, Fault
from tests.integration.api import flows
from tests.server import LiveServer, admin_client, server_settings
from tests.services import free_port, redis_server

WAIT = 60  # seconds anything may take before the test fails
Pair = tuple[LiveServer, LiveServer]


@contextmanager
def two_servers(
    data_dir: Path,
    redis_url: str,
    gemini: FakeGemini,
    first: dict[str, Any] | None = None,
    *,
    both: bool = False,
) -> Iterator[Pair]:
    """Two servers on one data directory (SQLite file and blobs) and one Redis (their job
    queue too); `first` sets more for the first server, with `both` for the second too."""
    shared: dict[str, Any] = {
        "PLAIT_BASE_URL": None,
        "PLAIT_IMAGE_BACKEND": "gemini",
        "PLAIT_GEMINI_BASE_URL": gemini.base_url,
        "PLAIT_REDIS_URL": redis_url,
        "PLAIT_TRIGGER_WAIT": "3600",  # a waiter that missed its signal would wait this long
    }
    with (
        LiveServer(server_settings(data_dir, **shared, **(first or {}))) as one,
        LiveServer(server_settings(data_dir, **shared, **(first if both and first else {}))) as two,
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

    def until(self, kind: str | tuple[str, ...], node_id: str | None = None) -> dict[str, Any]:
        """Read up to the first event of this kind, or of one of these kinds (and node);
        fail after WAIT seconds."""
        kinds = (kind,) if isinstance(kind, str) else kind
        while True:
            event = self._events.get(timeout=WAIT)
            self.seen.append(event)
            if event["kind"] in kinds and event["node_id"] == node_id:
                return event

    def kinds(self) -> list[tuple[str, str | None]]:
        return [(e["kind"], e["node_id"]) for e in self.seen]


def executing(pair: Pair, run_id: str) -> Pair:
    """The server executing the run (either may take it from their shared queue), then
    the other."""
    a, b = pair
    return (a, b) if a.app.state.plait.live.get(run_id) is not None else (b, a)


def start_run(client: httpx.Client, flow_id: str) -> str:
    started = client.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "a cat"}})
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    return run_id


def status(client: httpx.Client, run_id: str) -> str:
    found: str = client.get(f"/api/runs/{run_id}").json()["status"]
    return found


def until(check: Callable[[], bool], what: str) -> None:
    """`tests.helpers.until`, giving up after WAIT seconds."""
    helpers.until(check, what, seconds=WAIT)


def followed_elsewhere(
    pair: Pair, client: httpx.Client, hanging: threading.Event
) -> tuple[str, Pair, Stream]:
    """An image run, hanging in its Gemini call, and its stream from the server that does
    not execute it, read up to the image node's start: (run id, (runner, other), stream)."""
    run_id = start_run(client, flows.create(client, flows.image_endpoint()))
    assert hanging.wait(WAIT)
    servers = executing(pair, run_id)
    stream = Stream(servers[1].url, run_id)  # joins while the image call is in flight
    stream.until("node_started", "image")
    return run_id, servers, stream


def test_a_run_on_one_server_streams_live_on_the_other(
    pair: Pair, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    with pair[0].admin() as client:
        run_id, (runner, other), stream = followed_elsewhere(pair, client, hanging)
        assert status(client, run_id) == "running"  # heard live, not replayed from a record
        assert runner.app.state.plait.live.get(run_id) is not None  # and not run here
        assert ("node_finished", "trigger") in stream.kinds()  # what it missed, said again
        gemini_fake.end_hangs()
        image = stream.until("node_finished", "image")
        finished = stream.until("run_finished")
    assert finished["status"] == "succeeded"
    assert image["backend"] == "gemini"
    url = image["outputs"]["image"]["url"]
    assert url.startswith(other.url)  # a signed link of the streaming server
    with other.admin() as on_other:
        assert on_other.get(url).status_code == 200
    kinds = stream.kinds()
    assert kinds.count(("node_started", "image")) == 1  # each event said once
    assert kinds[-2:] == [("node_finished", "respond"), ("run_finished", None)]


def test_a_run_is_cancelled_from_the_other_server(
    pair: Pair, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    with pair[0].admin() as client:
        run_id, (_, other), stream = followed_elsewhere(pair, client, hanging)
        with other.admin() as on_other:
            cancel = on_other.post(f"/api/runs/{run_id}/cancel")
        assert cancel.status_code == 202, cancel.text
        # "cancelled" when the runner had not yet committed that it started the run: the
        # signal stops it all the same
        assert cancel.json()["status"] in ("cancelling", "cancelled")
        assert stream.until("run_finished")["status"] == "cancelled"
        assert status(client, run_id) == "cancelled"


def test_a_run_queued_and_cancelled_on_the_other_server_is_started_by_no_worker(
    tmp_path: Path, redis_url: str, gemini_fake: FakeGemini
) -> None:
    """Each server executes one run at a time, from the queue they share on Redis: with
    both busy, a third run waits in the queue, is cancelled, and neither starts it."""
    hangs = threading.Semaphore(0)
    gemini_fake.on_hang = hangs.release
    gemini_fake.fail(Fault.hang_for(WAIT * 2), Fault.hang_for(WAIT * 2))
    one_at_a_time = {"GEMINI_API_KEY": "k", "PLAIT_RUN_CONCURRENCY": "1"}
    with (
        two_servers(tmp_path / "data", redis_url, gemini_fake, one_at_a_time, both=True) as (
            a,
            b,
        ),
        a.admin() as on_a,
        b.admin() as on_b,
    ):
        flow_id = flows.create(on_a, flows.image_endpoint())
        busy = [start_run(on_a, flow_id), start_run(on_a, flow_id)]
        assert hangs.acquire(timeout=WAIT)
        assert hangs.acquire(timeout=WAIT)  # both servers execute one run each
        queued = start_run(on_a, flow_id)
        cancel = on_b.post(f"/api/runs/{queued}/cancel")
        assert cancel.status_code == 202, cancel.text
        assert cancel.json()["status"] == "cancelled"
        gemini_fake.end_hangs()
        until(lambda: asyncio.run(_jobs_left(redis_url)) == 0, "the queue is done")
        for run_id in busy:
            assert status(on_a, run_id) == "succeeded"
        cancelled = on_a.get(f"/api/runs/{queued}").json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["nodes"] == []
    assert len(gemini_fake.generate_requests()) == 2  # the busy runs' calls only


async def _jobs_left(redis_url: str) -> int:
    """Jobs waiting or being executed in the servers' shared queue (SAQ on Redis)."""
    jobs = Queue.from_url(redis_url, name="plait-runs")
    try:
        return await jobs.count("queued") + await jobs.count("active")
    finally:
        await jobs.disconnect()


def test_a_waiting_trigger_and_an_idempotency_key_repeat_answer_when_the_run_settles(
    pair: Pair, gemini_fake: FakeGemini, hanging: threading.Event
) -> None:
    a = pair[0]
    with a.admin() as on_a:
        flow_id = flows.create(on_a, flows.image_endpoint())
        secret = flows.publish(on_a, flow_id)["secret"]
    url = f"/api/trigger/{secret}/trigger"
    key = {"Idempotency-Key": "order-17"}
    with a.client() as caller_a:
        queued = caller_a.post(url, params={"wait": "false"}, json={"prompt": "x"}, headers=key)
    assert queued.status_code == 202, queued.text
    run_id = queued.json()["run_id"]
    assert hanging.wait(WAIT)
    _, other = executing(pair, run_id)
    with other.client() as caller:
        answers: queue.Queue[httpx.Response] = queue.Queue()
        repeat = threading.Thread(
            target=lambda: answers.put(caller.post(url, json={"prompt": "x"}, headers=key))
        )
        repeat.start()
        waits = other.app.state.plait.live
        until(lambda: waits.waited_for(run_id), "the repeat waits on the other server")
        gemini_fake.end_hangs()
        answer = answers.get(timeout=WAIT)  # not the trigger's wait of an hour
        repeat.join(WAIT)
    assert answer.status_code == 200, answer.text
    assert answer.headers["X-Plait-Run-Id"] == run_id
    assert answer.json()["image"].startswith(other.url)  # the run's result, from the other
    assert len(gemini_fake.generate_requests()) == 1  # the repeat started nothing


def test_a_gemini_key_stored_on_one_server_is_used_by_the_others_next_run(
    tmp_path: Path, redis_url: str
) -> None:
    """Each server executes one run at a time: of two runs at once, one runs on each."""
    one_at_a_time = {"PLAIT_RUN_CONCURRENCY": "1"}
    hanging = threading.Event()
    with (
        FakeGemini(api_key="AIza-the-stored-key-0001") as gemini,
        two_servers(tmp_path / "data", redis_url, gemini, one_at_a_time, both=True) as (a, b),
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
        gemini.on_hang = hanging.set
        gemini.fail(Fault.hang_for(WAIT * 2))
        flow_id = flows.create(on_b, flows.image_endpoint())
        first = start_run(on_b, flow_id)
        assert hanging.wait(WAIT)  # one server is busy with it: the other runs the next
        second = start_run(on_b, flow_id)
        settled = ("succeeded", "failed", "cancelled")
        until(lambda: status(on_b, second) in settled, "the second run settled")
        gemini.end_hangs()
        until(lambda: status(on_b, first) in settled, "the first run settled")
        assert (status(on_b, first), status(on_b, second)) == ("succeeded", "succeeded")
        sent = [r.headers["x-goog-api-key"] for r in gemini.generate_requests()]
        assert sent == ["AIza-the-stored-key-0001"] * 2  # by each server
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
        _, other = executing((a, b), run_id)
        redis.process.kill()
        redis.process.wait()
        stream = Stream(other.url, run_id)  # cannot listen for relayed events: reads records
        gemini_fake.end_hangs()  # the run finishes; saying so through Redis fails
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
