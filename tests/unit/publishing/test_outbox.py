"""The callback outbox: a callback waits for its run to settle, is retried with backoff
after transient failures until delivered, signed with the trigger secret, and a row
claimed by a process that died is taken over once its claim expires."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from plait.crypto.signing import body_signature
from plait.crypto.vault import Vault
from plait.engine.leases import Leases
from plait.net import GuardedClient
from plait.publishing.outbox import CLAIM_SECONDS, Outbox
from plait.store import outbox as store
from plait.store import run_writes
from plait.store.db import Database
from plait.store.leases import CALLBACKS
from plait.store.tables import CallbackDelivery, Run
from tests.fakes.web import LOOPBACK_ONLY, FakeResolver, LocalServer, local_server
from tests.helpers import UtcClock

DOCUMENT = {"format": 1, "nodes": [], "edges": []}


@pytest.fixture
def web() -> Iterator[LocalServer]:
    with local_server() as server:
        failing = {"left": 2}

        def flaky(h: BaseHTTPRequestHandler) -> None:  # 503 twice, then 204
            status = 503 if failing["left"] > 0 else 204
            failing["left"] -= 1
            h.send_response(status)
            h.send_header("Content-Length", "0")
            h.end_headers()

        server.routes["/hook"] = flaky
        yield server


@pytest.fixture
async def http() -> AsyncIterator[GuardedClient]:
    async with GuardedClient(LOOPBACK_ONLY, resolver=FakeResolver(), time_limit=5.0) as client:
        yield client


@pytest.fixture
def db(any_db: Database) -> Database:
    """On SQLite and on PostgreSQL."""
    return any_db


def _payload(run: Run, secret: str) -> dict[str, Any]:
    return {"run_id": run.id, "status": run.status}


def _outbox(db: Database, http: GuardedClient, clock: UtcClock, owner: str) -> Outbox:
    leases = Leases(db, owner, 30, clock)
    return Outbox(leases, http, Vault("test-master-key"), _payload, attempts=4, first_delay=10)


async def _run(db: Database, status: str = "queued") -> str:
    row = {"id": "r1", "flow_hash": "f" * 64, "source": "trigger", "inputs": {}}
    await db.journal.write(run_writes.create_run(row, DOCUMENT))
    if status != "queued":
        await db.journal.write(run_writes.finish_run("r1", {"status": status}, []))
    return "r1"


async def _delivery(db: Database) -> CallbackDelivery:
    async with db.new_session() as session:
        found = await store.get(session, 1)
    assert found is not None
    return found[0]


async def test_a_callback_waits_for_its_run_then_is_retried_until_delivered(
    db: Database, http: GuardedClient, web: LocalServer
) -> None:
    clock = UtcClock()
    outbox = _outbox(db, http, clock, "one")
    run_id = await _run(db)
    await outbox.add(run_id, f"{web.origin}/hook", "the-secret")
    assert await outbox.deliver_due() == 0  # the run has not settled
    assert web.seen == []
    await db.journal.write(run_writes.finish_run(run_id, {"status": "succeeded"}, []))

    assert await outbox.deliver_due() == 0  # 503
    assert await outbox.deliver_due() == 0  # not due for another 10 s
    clock.advance(10)
    assert await outbox.deliver_due() == 0  # 503 again; next in 20 s
    clock.advance(19)
    assert await outbox.deliver_due() == 0
    clock.advance(1)
    assert await outbox.deliver_due() == 1
    assert await outbox.deliver_due() == 0  # delivered once, never again

    assert len(web.seen) == 3
    body = web.seen[-1].body
    assert json.loads(body) == {"run_id": run_id, "status": "succeeded"}
    assert web.seen[-1].headers["X-Plait-Signature"] == body_signature("the-secret", body)
    delivery = await _delivery(db)
    assert (delivery.state, delivery.attempts, delivery.claim_owner) == ("delivered", 3, None)
    assert delivery.secret != "the-secret"  # kept encrypted


async def test_a_callback_claimed_by_a_dead_process_is_taken_over_after_its_claim_expires(
    db: Database, http: GuardedClient, web: LocalServer
) -> None:
    clock = UtcClock()
    run_id = await _run(db, "succeeded")
    dead = _outbox(db, http, clock, "dead")
    await dead.add(run_id, f"{web.origin}/hook", "s")
    assert await dead.leases.claim(CALLBACKS, 1)  # it claimed the row, then died
    alive = _outbox(db, http, clock, "alive")
    assert await alive.deliver_due() == 0  # the claim still holds
    assert web.seen == []
    clock.advance(CLAIM_SECONDS + 1)
    delivered = 0
    for _ in range(3):  # two 503s (each retried 10 s, then 20 s later), then delivered
        delivered += await alive.deliver_due()
        clock.advance(20)
    assert delivered == 1
    delivery = await _delivery(db)
    assert (delivery.state, delivery.claim_owner) == ("delivered", None)
    assert delivery.settled_at is not None


async def test_a_refused_callback_fails_at_once(
    db: Database, http: GuardedClient, web: LocalServer
) -> None:
    outbox = _outbox(db, http, UtcClock(), "one")
    run_id = await _run(db, "failed")
    await outbox.add(run_id, f"{web.origin}/nowhere", "s")  # 404
    assert await outbox.deliver_due() == 0
    delivery = await _delivery(db)
    assert (delivery.state, delivery.attempts) == ("failed", 1)
    assert delivery.last_error
