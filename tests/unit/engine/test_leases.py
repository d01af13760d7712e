"""Leases: one conditional UPDATE decides who holds a run; a heartbeat keeps it; a
holder that stops beating loses it once it expires, and learns so at its next beat."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import update

from plait.engine.leases import Leases
from plait.store import run_writes
from plait.store import runs as run_store
from plait.store.db import Database
from plait.store.leases import RUNS, Leased
from plait.store.tables import Run
from tests.helpers import UtcClock

DOCUMENT = {"format": 1, "nodes": [], "edges": []}


@pytest.fixture
def db(any_db: Database) -> Database:
    """On SQLite and on PostgreSQL."""
    return any_db


async def _queued(db: Database, run_id: str = "r1") -> str:
    row = {"id": run_id, "flow_hash": "f" * 64, "source": "editor", "inputs": {}}
    await db.journal.write(run_writes.create_run(row, DOCUMENT))
    return run_id


async def _lease(db: Database, run_id: str) -> tuple[str | None, object]:
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
    assert run is not None
    return run.lease_owner, run.lease_expires


async def test_only_one_process_claims_a_run(db: Database) -> None:
    clock = UtcClock()
    run_id = await _queued(db)
    first, second = Leases(db, "one", 30, clock), Leases(db, "two", 30, clock)
    assert await first.claim(RUNS, run_id)
    assert not await second.claim(RUNS, run_id)
    assert not await first.claim(RUNS, run_id)  # not twice by the same process either
    assert await _lease(db, run_id) == ("one", first.until())


async def test_a_beating_lease_holds_and_a_silent_one_is_taken_over(db: Database) -> None:
    clock = UtcClock()
    run_id = await _queued(db)
    owner, other = Leases(db, "one", 30, clock), Leases(db, "two", 30, clock)
    assert await owner.claim(RUNS, run_id)
    clock.advance(20)
    assert await owner.extend(RUNS, run_id)  # now good until +50
    clock.advance(25)
    assert not await other.claim(RUNS, run_id)  # +45: still held
    clock.advance(6)
    assert await other.claim(RUNS, run_id)  # +51: ran out
    assert not await owner.extend(RUNS, run_id)  # the old owner learns it lost it
    assert (await _lease(db, run_id))[0] == "two"


async def test_a_released_lease_is_free_at_once(db: Database) -> None:
    clock = UtcClock()
    run_id = await _queued(db)
    owner, other = Leases(db, "one", 30, clock), Leases(db, "two", 30, clock)
    assert await owner.claim(RUNS, run_id)
    assert await owner.release(RUNS, run_id)
    clock.advance(0.001)
    assert await other.claim(RUNS, run_id)


async def test_a_settled_run_is_not_claimed(db: Database) -> None:
    run_id = await _queued(db)
    done = {"status": "succeeded"}
    await db.journal.write(run_writes.finish_run(run_id, done, []))
    leases = Leases(db, "one", 30, UtcClock())
    assert not await leases.claim(RUNS, run_id)


async def test_take_claims_a_free_row_or_renews_this_process_s_own_claim(db: Database) -> None:
    clock = UtcClock()
    run_id = await _queued(db)
    owner, other = Leases(db, "one", 30, clock), Leases(db, "two", 30, clock)
    assert await owner.take(RUNS, run_id)  # free: claimed
    clock.advance(20)
    assert await owner.take(RUNS, run_id)  # already its own: pushed on to +50
    assert await _lease(db, run_id) == ("one", owner.until())
    assert not await other.take(RUNS, run_id)  # another's, still held
    clock.advance(31)
    assert await other.take(RUNS, run_id)  # another's that ran out: taken over
    assert not await owner.take(RUNS, run_id)
    await db.journal.write(run_writes.finish_run(run_id, {"status": "succeeded"}, [], "two"))
    assert not await other.take(RUNS, run_id)  # settled: not claimable, even by its holder


async def test_a_claim_holds_long_while_more_than_half_of_it_is_left(db: Database) -> None:
    clock = UtcClock()
    leases = Leases(db, "one", 30, clock)
    until = leases.until()
    assert leases.holds_long(until)
    clock.advance(14.9)
    assert leases.holds_long(until)
    clock.advance(0.2)  # less than half left: renewed before work under it starts
    assert not leases.holds_long(until)


async def test_the_final_write_of_a_process_that_lost_its_lease_does_not_land(
    db: Database,
) -> None:
    clock = UtcClock()
    run_id = await _queued(db)
    assert await Leases(db, "new", 30, clock).claim(RUNS, run_id)
    stale = {"status": "cancelled", "error": "lost"}
    await db.journal.write(run_writes.finish_run(run_id, stale, [], owner="old"))
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
    assert run is not None
    assert (run.status, run.lease_owner) == ("queued", "new")


class _Watched(Leases):
    """Leases that say when a beat extended a claim."""

    beat = asyncio.Event()

    async def extend(self, leased: Leased, key: object) -> bool:
        held = await super().extend(leased, key)
        if held:
            self.beat.set()
        return held


async def test_the_heartbeat_extends_the_lease_and_reports_losing_it(db: Database) -> None:
    run_id = await _queued(db)
    leases = _Watched(db, "one", seconds=0.06)  # beats every 20 ms, on the real clock
    leases.beat = asyncio.Event()
    assert await leases.claim(RUNS, run_id)
    first = (await _lease(db, run_id))[1]
    lost = asyncio.Event()
    async with leases.heartbeat(RUNS, run_id, lost.set):
        await asyncio.wait_for(leases.beat.wait(), 10)
        assert (await _lease(db, run_id))[1] != first  # extended
        async with db.engine.begin() as conn:  # another process takes the run over
            await conn.execute(update(Run).where(Run.id == run_id).values(lease_owner="two"))
        await asyncio.wait_for(lost.wait(), 10)
    assert (await _lease(db, run_id))[0] == "two"
