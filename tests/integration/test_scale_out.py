"""Plait scaled out (issue 18): two `plait serve --no-worker` and two `plait worker`
processes on one PostgreSQL, one Redis (job queue, rate limits, signals) and one S3 bucket
(images), the fake Gemini answering through the real SDK after 200 ms. The servers only
record and enqueue; the workers execute. Every test waits on conditions, never on time.

The cluster is started once for the module; each test uses flows and prompts of its own.
The two kill tests come last: each kills a worker and starts a new one in its place."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import psycopg
import pytest
from mcp import types

from tests import loopback
from tests.cluster import Cluster, Process, environment
from tests.fakes.gemini import JSON, FakeGemini
from tests.fakes.web import LocalServer, local_server
from tests.helpers import open_image, until
from tests.integration.api import flows
from tests.integration.api.test_mcp import mcp_session, token
from tests.integration.api.test_recovery import TWO_IMAGES
from tests.integration.api.test_signals_across_servers import Stream
from tests.server import admin_client
from tests.services import S3, Postgres, Redis

WAIT = 180  # seconds any condition may take (a dead worker's SAQ job returns after ~30 s)
CONCURRENCY = 10  # runs each worker executes at once: 20 runs in flight fill both
PRICE = 0.039  # gemini-2.5-flash-image, per image: the estimate of one image_endpoint run
NIGHT = "the same, at night"  # the second image's prompt in TWO_IMAGES


@dataclass
class Scaled:
    cluster: Cluster
    fake: FakeGemini
    database_url: str
    web: LocalServer  # receives callbacks

    def a(self) -> httpx.Client:
        return self.cluster.admin(0)

    def b(self) -> httpx.Client:
        return self.cluster.admin(1)

    def owners(self, table: str, ids: list[str]) -> dict[str, str | None]:
        """Who holds each row's lease now, read from PostgreSQL."""
        url = self.database_url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as connection:
            rows = connection.execute(
                f"SELECT id, lease_owner FROM {table} WHERE id = ANY(%s)",
                (ids,),
            ).fetchall()
        return {row[0]: row[1] for row in rows}

    def worker_of(self, owner: str | None) -> Process:
        """The worker process that holds a lease (owner ids are host:pid:random)."""
        [found] = [w for w in self.cluster.workers if f":{w.popen.pid}:" in f"{owner}"]
        return found


@pytest.fixture(scope="module")
def scaled(
    tmp_path_factory: pytest.TempPathFactory, postgres: Postgres, redis_service: Redis, s3: S3
) -> Iterator[Scaled]:
    workdir = tmp_path_factory.mktemp("scale-out")
    redis_service.flush()
    database_url = postgres.new_database()
    with FakeGemini(latency=0.2) as fake, local_server() as web:
        env = (
            environment(
                workdir / "data",
                PLAIT_DATABASE_URL=database_url,
                PLAIT_REDIS_URL=redis_service.url(),
                PLAIT_BLOB_URL=f"s3://{s3.new_bucket()}/plait",
                PLAIT_IMAGE_BACKEND="gemini",
                GEMINI_API_KEY="k",
                PLAIT_GEMINI_BASE_URL=fake.base_url,
                PLAIT_LEASE_SECONDS="10",  # a dead worker's runs are free 10 s after its last beat
                PLAIT_NET_ALLOW="127.0.0.1",  # callbacks to the local receiver
            )
            | s3.env()
        )
        cluster = Cluster(workdir, env)
        try:
            cluster.serve()
            cluster.serve()
            cluster.worker(CONCURRENCY)
            cluster.worker(CONCURRENCY)
            yield Scaled(cluster, fake, database_url, web)
        finally:
            cluster.stop()
            print(cluster.logs())  # shown by pytest when a test failed
    postgres.drop_database(database_url)


@pytest.fixture
def fake(scaled: Scaled) -> Iterator[FakeGemini]:
    """The module's fake: no chosen hangs left over by another test."""
    yield scaled.fake
    scaled.fake.hang_if = None
    scaled.fake.end_hangs()


def published(client: httpx.Client, document: dict[str, Any], **settings: Any) -> tuple[str, str]:
    """A new flow, published: (flow id, its trigger's path)."""
    flow_id = flows.create(client, document)
    secret = flows.publish(client, flow_id, **settings)["secret"]
    return flow_id, f"/api/trigger/{secret}/trigger"


def generated(fake: FakeGemini) -> Counter[str]:
    """How many image calls reached the fake, by prompt text."""
    return Counter(r.body["contents"][0]["parts"][0]["text"] for r in fake.generate_requests())


def prompted(*prompts: str) -> Callable[[JSON], bool]:
    return lambda body: bool(body["contents"][0]["parts"][0]["text"] in prompts)


def run_of(client: httpx.Client, run_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/runs/{run_id}")
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()
    return run


def node_status(run: dict[str, Any], node_id: str) -> str | None:
    return next((n["status"] for n in run["nodes"] if n["node_id"] == node_id), None)


def test_61_calls_across_both_servers_are_60_answers_and_one_429(scaled: Scaled) -> None:
    with scaled.a() as a, scaled.b() as b:
        _, path = published(a, flows.echo("rate"))
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda i: (a, b)[i % 2].post(path, json={"prompt": f"call {i}"}), range(61)
                )
            )
    statuses = Counter(answer.status_code for answer in answers)
    assert statuses == {200: 60, 429: 1}
    [refused] = [answer for answer in answers if answer.status_code == 429]
    assert refused.headers["RateLimit-Policy"].endswith(";q=60;w=60")
    assert {answer.json()["prompt"] for answer in answers if answer.status_code == 200} <= {
        f"call {i}" for i in range(61)
    }


def test_a_daily_budget_holds_across_both_servers(scaled: Scaled, fake: FakeGemini) -> None:
    budget = 0.2  # room for 5 images at their estimate
    with scaled.a() as a, scaled.b() as b:
        flow_id, path = published(a, flows.image_endpoint(), daily_budget_usd=budget)

        def call(i: int) -> httpx.Response:
            body = {"prompt": f"budget {i}"}
            return (a, b)[i % 2].post(path, params={"wait": "false"}, json=body)

        with ThreadPoolExecutor(12) as pool:
            answers = list(pool.map(call, range(12)))
        accepted = [answer.json()["run_id"] for answer in answers if answer.status_code == 202]
        refused = [answer.json() for answer in answers if answer.status_code == 429]
        until(
            lambda: all(run_of(a, r)["status"] == "succeeded" for r in accepted),
            "the accepted runs to finish",
            WAIT,
        )
        costs = [run["cost_usd"] for run in a.get("/api/runs", params={"flow_id": flow_id}).json()]
    assert len(accepted) + len(refused) == 12
    assert accepted
    assert refused
    assert {body["error"] for body in refused} == {"daily_budget_exceeded"}
    assert len(accepted) * PRICE <= budget + PRICE  # never over by more than one estimate
    assert sum(costs) <= budget + PRICE
    assert len(costs) == len(accepted)
    prompts = generated(fake)
    assert sum(prompts[f"budget {i}"] for i in range(12)) == len(accepted)  # refused: unpaid


def test_an_idempotency_key_repeated_on_the_other_server_is_the_same_run(
    scaled: Scaled, fake: FakeGemini
) -> None:
    fake.hang_if = prompted("only once")
    key = {"Idempotency-Key": "order-18"}
    with scaled.a() as a, scaled.b() as b:
        flow_id, path = published(a, flows.image_endpoint())
        first = a.post(path, params={"wait": "false"}, headers=key, json={"prompt": "only once"})
        assert first.status_code == 202, first.text
        run_id = first.json()["run_id"]
        until(lambda: generated(fake)["only once"] == 1, "the image call", WAIT)
        during = b.post(path, params={"wait": "false"}, headers=key, json={"prompt": "only once"})
        fake.hang_if = None
        fake.end_hangs()
        after = b.post(path, headers=key, json={"prompt": "only once"})  # waits for the run
        runs = a.get("/api/runs", params={"flow_id": flow_id}).json()
    assert during.status_code == 202, during.text
    assert during.json()["run_id"] == run_id
    assert after.status_code == 200, after.text
    assert after.headers["x-plait-run-id"] == run_id
    assert after.json()["image"].startswith(f"{scaled.cluster.urls()[1]}/files/")
    assert generated(fake)["only once"] == 1  # one paid call
    assert [run["id"] for run in runs] == [run_id]


def test_sse_on_a_server_shows_the_node_events_of_a_run_on_a_worker(
    scaled: Scaled, fake: FakeGemini
) -> None:
    fake.hang_if = prompted("streamed")
    with scaled.a() as a, scaled.b() as b:
        _, path = published(a, flows.image_endpoint())
        started = b.post(path, params={"wait": "false"}, json={"prompt": "streamed"})
        run_id = started.json()["run_id"]
        until(lambda: generated(fake)["streamed"] == 1, "the image call", WAIT)
        stream = Stream(scaled.cluster.urls()[0], run_id)  # joins while the image hangs
        stream.until(("node_started", "node_running"), "image")
        assert run_of(a, run_id)["status"] == "running"
        fake.hang_if = None
        fake.end_hangs()
        image = stream.until("node_finished", "image")  # heard live from the worker
        finished = stream.until("run_finished")
    assert finished["status"] == "succeeded"
    assert ("node_finished", "trigger") in stream.kinds()
    assert image["outputs"]["image"]["url"].startswith(scaled.cluster.urls()[0])
    assert stream.kinds()[-2:] == [("node_finished", "respond"), ("run_finished", None)]


def test_cancel_from_either_server_stops_a_run_on_any_worker(
    scaled: Scaled, fake: FakeGemini
) -> None:
    prompts = [f"cancel {i}" for i in range(CONCURRENCY + 2)]  # more than one worker holds
    fake.hang_if = prompted(*prompts)
    with scaled.a() as a, scaled.b() as b:
        _, path = published(a, flows.image_endpoint())
        run_ids = [
            a.post(path, params={"wait": "false"}, json={"prompt": p}).json()["run_id"]
            for p in prompts
        ]
        until(lambda: sum(generated(fake)[p] for p in prompts) == len(prompts), "calls", WAIT)
        owners = scaled.owners("runs", run_ids)
        by_worker: dict[str, str] = {}
        for run_id, owner in owners.items():
            by_worker.setdefault(scaled.worker_of(owner).name, run_id)
        assert len(by_worker) == 2, owners  # one run on each worker
        on_one, on_other = by_worker.values()
        for client, run_id in ((a, on_one), (b, on_other)):
            cancel = client.post(f"/api/runs/{run_id}/cancel")
            assert cancel.status_code == 202, cancel.text
        until(
            lambda: {run_of(a, r)["status"] for r in (on_one, on_other)} == {"cancelled"},
            "both runs to be cancelled",
            WAIT,
        )
        still = [r for r in run_ids if r not in (on_one, on_other)]
        assert {run_of(b, r)["status"] for r in still} == {"running"}  # only those stopped
        for run_id in still:
            a.post(f"/api/runs/{run_id}/cancel")


def test_an_image_written_by_a_worker_is_served_by_both_servers(scaled: Scaled) -> None:
    with scaled.a() as a:
        _, path = published(a, flows.image_endpoint())
        answer = a.post(path, json={"prompt": "served"})
        assert answer.status_code == 200, answer.text
        url = answer.json()["image"]
        a_url, b_url = scaled.cluster.urls()
        assert url.startswith(f"{a_url}/files/")
        from_a = loopback.get(url, timeout=60)
        from_b = loopback.get(b_url + url.removeprefix(a_url), timeout=60)
    assert from_a.status_code == from_b.status_code == 200
    assert from_b.content == from_a.content
    assert open_image(from_b.content).format == "PNG"


def test_an_mcp_tool_called_on_one_server_runs_on_a_worker(
    scaled: Scaled, fake: FakeGemini
) -> None:
    """Issue 20 on PostgreSQL + Redis: both servers are `--no-worker`, so the call's run
    is executed by a worker; the tool answers its body, image and run like the API."""
    with scaled.a() as a:
        flow_id = flows.create(a, {**flows.image_endpoint(), "name": "Scaled draw"})
        flows.publish(a, flow_id, mcp=True)
        bearer = token(a, "run")
    b_url = scaled.cluster.urls()[1]

    async def call() -> types.CallToolResult:
        async with mcp_session(b_url, bearer) as session:
            return await session.call_tool("Scaled_draw", {"prompt": "drawn for an agent"})

    result = asyncio.run(call())
    assert not result.is_error, result.content
    structured = result.structured_content
    assert structured is not None
    assert structured["result"]["image"].startswith(f"{b_url}/files/")
    images = [c for c in result.content if isinstance(c, types.ImageContent)]
    assert len(images) == 1
    with scaled.a() as a:
        run = run_of(a, structured["run_id"])
    assert (run["flow_id"], run["status"]) == (flow_id, "succeeded")
    assert generated(fake)["drawn for an agent"] == 1  # paid once


def _no_content(handler: BaseHTTPRequestHandler) -> None:
    """A callback receiver's answer: 204."""
    handler.send_response(204)
    handler.end_headers()


def _hooks(scaled: Scaled, path: str = "/hook") -> dict[str, list[dict[str, Any]]]:
    """The callbacks the receiver got at `path`, by run id."""
    delivered: dict[str, list[dict[str, Any]]] = {}
    for seen in scaled.web.seen:
        if seen.path == path:
            payload = json.loads(seen.body)
            delivered.setdefault(payload["run_id"], []).append(payload)
    return delivered


def test_runs_a_killed_web_process_accepted_finish_and_call_back(
    scaled: Scaled, fake: FakeGemini
) -> None:
    """docs/deploy.md, "a web process dies": a third server accepts runs, each with a
    callback, and is killed (SIGKILL) while their image calls are in flight on the
    workers; the runs finish, their callbacks are delivered, the other server answers."""
    scaled.web.routes["/accepted-hook"] = _no_content
    prompts = [f"web dies {i}" for i in range(4)]
    fake.hang_if = prompted(*prompts)
    extra = scaled.cluster.serve()
    with admin_client(str(extra.url)) as c, scaled.b() as b:
        _, path = published(c, flows.image_endpoint())
        hook_url = f"{scaled.web.origin}/accepted-hook"
        run_ids = [
            c.post(
                path, params={"wait": "false"}, json={"prompt": p, "callback_url": hook_url}
            ).json()["run_id"]
            for p in prompts
        ]
        until(
            lambda: sum(generated(fake)[p] for p in prompts) == 4,
            "the 4 image calls in flight on the workers",
            WAIT,
        )
        extra.kill()
        fake.hang_if = None
        fake.end_hangs()
        until(
            lambda: all(run_of(b, r)["status"] not in ("queued", "running") for r in run_ids),
            "every run to settle",
            WAIT,
        )
        statuses = {r: run_of(b, r)["status"] for r in run_ids}
        until(lambda: len(_hooks(scaled, "/accepted-hook")) == 4, "a callback of every run", WAIT)
    assert set(statuses.values()) == {"succeeded"}
    delivered = _hooks(scaled, "/accepted-hook")
    assert set(delivered) == set(run_ids)
    assert all({c["status"] for c in delivered[r]} == {"succeeded"} for r in run_ids)
    counted = generated(fake)
    assert [counted[p] for p in prompts] == [1, 1, 1, 1]  # no worker died: nothing repeats


@dataclass
class Killed:
    run_ids: list[str]
    dead_runs: set[str]  # the runs the killed worker held at the kill
    statuses: dict[str, str]
    resumed_said: str  # what the other workers logged
    callbacks: dict[str, list[dict[str, Any]]]  # by run id


def _replaced(scaled: Scaled, victim: Process) -> None:
    """SIGKILL the worker, then start another in its place."""
    victim.kill()
    scaled.cluster.worker(CONCURRENCY)


@pytest.fixture(scope="module")
def killed(scaled: Scaled) -> Killed:
    """20 runs of two images, each with a callback: every first image answered and
    recorded, every second in flight (10 on each worker) when a worker is killed."""
    fake = scaled.fake
    scaled.web.routes["/hook"] = _no_content
    fake.hang_if = prompted(NIGHT)
    prompts = [f"kill {i}" for i in range(20)]
    with scaled.a() as a, scaled.b() as b:
        _, path = published(a, TWO_IMAGES)
        hook_url = f"{scaled.web.origin}/hook"
        run_ids = [
            (a, b)[i % 2]
            .post(path, params={"wait": "false"}, json={"prompt": p, "callback_url": hook_url})
            .json()["run_id"]
            for i, p in enumerate(prompts)
        ]
        until(lambda: generated(fake)[NIGHT] == 20, "20 second images in flight", WAIT)
        until(
            lambda: all(node_status(run_of(a, r), "first") == "succeeded" for r in run_ids),
            "every first image recorded",
            WAIT,
        )
        owners = scaled.owners("runs", run_ids)
        victim = scaled.worker_of(owners[run_ids[0]])
        dead_runs = {r for r, owner in owners.items() if scaled.worker_of(owner) is victim}
        _replaced(scaled, victim)
        fake.hang_if = None
        fake.end_hangs()  # the survivor's calls answer; the dead worker's are gone
        until(
            lambda: all(run_of(a, r)["status"] not in ("queued", "running") for r in run_ids),
            "every run to settle",
            WAIT,
        )
        statuses = {r: run_of(b, r)["status"] for r in run_ids}
        until(lambda: len(_hooks(scaled)) == 20, "a callback of every run", WAIT)
    others = [w for w in scaled.cluster.workers if w is not victim]
    return Killed(run_ids, dead_runs, statuses, "\n".join(w.said() for w in others), _hooks(scaled))


def test_a_killed_worker_s_runs_all_finish_and_only_its_in_flight_calls_repeat(
    scaled: Scaled, killed: Killed
) -> None:
    assert set(killed.statuses.values()) == {"succeeded"}
    assert 0 < len(killed.dead_runs) < 20  # the kill caught runs in flight on it, not all
    prompts = generated(scaled.fake)
    assert all(prompts[f"kill {i}"] == 1 for i in range(20))  # no first image paid again
    in_flight_at_kill = len(killed.dead_runs)  # each had its second image call in flight
    assert prompts[NIGHT] == 20 + in_flight_at_kill
    for run_id in killed.dead_runs:
        assert f"resuming run {run_id}: 1 finished node(s) kept" in killed.resumed_said


def test_callbacks_of_runs_finishing_after_the_kill_are_delivered(killed: Killed) -> None:
    assert set(killed.callbacks) == set(killed.run_ids)
    for run_id in killed.dead_runs:  # those finished after the kill, on another worker
        assert {c["status"] for c in killed.callbacks[run_id]} == {"succeeded"}
        assert killed.callbacks[run_id][0]["result"]["image"].startswith("http")


def test_a_batch_whose_worker_was_killed_finishes_paying_only_the_rows_in_flight(
    scaled: Scaled, fake: FakeGemini
) -> None:
    rows = ["one", "two", "three", "four", "five", "six"]
    fake.hang_if = prompted("four", "five", "six")
    with scaled.a() as a, scaled.b() as b:
        batch_id = flows.image_batch(a, rows, concurrency=3)

        def counts() -> dict[str, int]:
            found: dict[str, int] = b.get(f"/api/batches/{batch_id}").json()["counts"]
            return found

        until(lambda: counts()["succeeded"] == 3, "rows one to three recorded", WAIT)
        until(lambda: sum(generated(fake)[r] for r in rows[3:]) == 3, "rows 4-6 calls", WAIT)
        [owner] = scaled.owners("batches", [batch_id]).values()
        _replaced(scaled, scaled.worker_of(owner))
        fake.hang_if = None
        fake.end_hangs()
        until(
            lambda: b.get(f"/api/batches/{batch_id}").json()["state"] == "finished",
            "the batch to finish on another worker",
            WAIT,
        )
        assert counts()["succeeded"] == 6
    prompts = generated(fake)
    assert [prompts[r] for r in rows] == [1, 1, 1, 2, 2, 2]  # in flight at the kill: 4-6
