import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import event, text

from plait.engine.cache import KeepingCache, StoredNodeCache
from plait.engine.context import Services
from plait.engine.runner import Runner, RunRequest
from plait.flows.loader import load_flow
from plait.flows.validate import compile_flow
from plait.store import runs as run_store
from plait.store.db import Database, open_database
from plait.store.migrations.head import HEAD
from tests.helpers import EXAMPLES, flow, node
from tests.unit.engine.nodes_for_tests import Gate, Hang, Reach, registry


async def test_a_run_is_persisted_with_its_node_runs(db: Database, services: Services) -> None:
    compiled = compile_flow(load_flow(EXAMPLES / "product-shot.json"), registry())
    runner = Runner(db, services, "preview")
    request = RunRequest(compiled, {"prompt": "red sneaker on white"}, source="cli")
    result = await runner.run(request)

    async with db.new_session() as session:
        run = await run_store.get_run(session, result.run_id)
        nodes = {n.node_id: n for n in await run_store.node_runs(session, result.run_id)}
    assert run is not None
    assert (run.status, run.source, run.backend) == ("succeeded", "cli", "preview")
    assert run.inputs == {"prompt": "red sneaker on white"}
    assert run.flow_hash == compiled.flow.content_hash()
    assert run.started_at is not None
    assert run.finished_at is not None
    assert run.finished_at >= run.started_at
    assert run.result is not None
    assert set(run.result) == {"image", "thumbnail"}
    assert run.result["thumbnail"]["$image"]["width"] == 800
    assert set(nodes) == {"trigger", "image", "thumb", "respond"}
    image = nodes["image"]
    assert (image.status, image.backend, image.cache_hit) == ("succeeded", "preview", False)
    assert image.inputs == {"prompt": "red sneaker on white"}
    assert image.outputs["image"]["$image"]["width"] == 1200  # 4:3 on Nano Banana 2.1
    assert image.warnings is None
    assert image.duration_ms is not None
    assert image.duration_ms > 0
    assert image.cost_usd == 0.0


async def test_a_deprecated_model_runs_and_its_node_run_records_a_warning(
    db: Database, services: Services
) -> None:
    f = flow([node("img", "image", model="gemini-2.5-flash-image", prompt="a pear")])
    result = await Runner(db, services, "preview").run(RunRequest(compile_flow(f, registry()), {}))
    async with db.new_session() as session:
        [row] = await run_store.node_runs(session, result.run_id)
    assert row.status == "succeeded"
    assert row.warnings == [
        "gemini-2.5-flash-image was deprecated by Google on 2026-09-18; Google shuts it down "
        "on 2027-03-15; switch to gemini-3.1-flash-lite-image"
    ]
    assert result.nodes["img"].warnings == tuple(row.warnings)


async def test_a_failed_run_records_the_failing_node(db: Database, services: Services) -> None:
    f = flow(
        [node("bad", "fail", message="nope"), node("after", "gate")], [("bad.out", "after.in")]
    )
    runner = Runner(db, services, "preview")
    result = await runner.run(RunRequest(compile_flow(f, registry()), {}))
    async with db.new_session() as session:
        run = await run_store.get_run(session, result.run_id)
        nodes = {n.node_id: n for n in await run_store.node_runs(session, result.run_id)}
    assert run is not None
    assert (run.status, run.failed_node, run.error, run.result) == ("failed", "bad", "nope", None)
    assert (nodes["bad"].status, nodes["bad"].error, nodes["bad"].error_port) == (
        "failed",
        "nope",
        "out",
    )
    assert nodes["after"].status == "skipped"


async def test_concurrent_runs_share_commits(db: Database, services: Services) -> None:
    # Each commit costs about a millisecond: the journal writes many runs' rows in one.
    f = compile_flow(
        flow(
            [node("a", "gate"), node("b", "gate"), node("c", "gate")],
            [("a.out", "b.in"), ("b.out", "c.in")],
        ),
        registry(),
    )
    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(db.engine.sync_engine, "commit", count)
    runner = Runner(db, services, "preview")
    results = await asyncio.gather(*(runner.run(RunRequest(f, {})) for _ in range(50)))
    event.remove(db.engine.sync_engine, "commit", count)
    async with db.new_session() as session:
        for result in results:
            run = await run_store.get_run(session, result.run_id)
            nodes = await run_store.node_runs(session, result.run_id)
            assert run is not None
            assert run.status == "succeeded"
            assert sorted((n.node_id, n.status) for n in nodes) == [
                ("a", "succeeded"),
                ("b", "succeeded"),
                ("c", "succeeded"),
            ]
    # one at a time this is 50 runs × (queued, running, checkpoints, totals) ≥ 200 commits
    assert commits < 50


async def test_the_run_is_queued_before_anything_executes(db: Database, services: Services) -> None:
    runner = Runner(db, services, "preview")
    request = RunRequest(compile_flow(flow([node("a", "gate")]), registry()), {})
    run_id = await runner.submit(request)
    async with db.new_session() as session:
        run = await run_store.get_run(session, run_id)
        assert run is not None
        assert run.status == "queued"
        assert await run_store.node_runs(session, run_id) == []


async def test_a_cancelled_run_is_recorded_as_cancelled(db: Database, services: Services) -> None:
    Hang.started = asyncio.Event()
    runner = Runner(db, services, "preview")
    request = RunRequest(compile_flow(flow([node("h", "hang")]), registry()), {})
    task = asyncio.create_task(runner.run(request))
    await Hang.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.new_session() as session:
        [run] = await run_store.list_runs(session, None, 10)
        nodes = await run_store.node_runs(session, run.id)
    assert run.status == "cancelled"
    assert [(n.node_id, n.status) for n in nodes] == [("h", "cancelled")]


async def test_stored_cache_survives_a_new_runner(db: Database, services: Services) -> None:
    compiled = compile_flow(load_flow(EXAMPLES / "product-shot.json"), registry())
    request = RunRequest(compiled, {"prompt": "p"}, reuse_cache=True)
    first = await Runner(db, services, "preview").run(request)
    second = await Runner(db, services, "preview").run(request)
    assert not first.nodes["image"].cache_hit
    assert second.nodes["image"].cache_hit
    assert second.nodes["thumb"].cache_hit
    assert second.result() == first.result()


async def test_a_fresh_run_keeps_its_outputs_for_the_next_run_that_reuses(
    db: Database, services: Services
) -> None:
    compiled = compile_flow(load_flow(EXAMPLES / "product-shot.json"), registry())
    runner = Runner(db, services, "preview")
    fresh = RunRequest(compiled, {"prompt": "p"}, keep_outputs=True)
    assert not (await runner.run(fresh)).nodes["image"].cache_hit
    assert not (await runner.run(fresh)).nodes["image"].cache_hit  # kept, never read
    reused = await runner.run(RunRequest(compiled, {"prompt": "p"}, reuse_cache=True))
    assert reused.nodes["image"].cache_hit


async def test_the_stored_cache_keeps_the_newest_outputs(db: Database) -> None:
    cache = StoredNodeCache(db)
    await cache.put("k", {"text": "first take"})
    await cache.put("k", {"text": "second take"})
    assert await cache.get("k") == {"text": "second take"}
    assert await KeepingCache(cache).get("k") is None


async def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30000
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_migrations_are_applied_and_idempotent(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    for _ in range(2):
        database = await open_database(url)
        async with database.engine.connect() as conn:
            version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            tables = (
                (await conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'")))
                .scalars()
                .all()
            )
        await database.close()
    assert version == HEAD
    assert {"runs", "node_runs", "flow_documents", "node_cache"} <= set(tables)


async def test_cache_notices_a_changed_input_file(
    db: Database, services: Services, tmp_path: Path
) -> None:
    import os

    from tests.helpers import png

    (tmp_path / "a.png").write_bytes(png(10, 10))
    f = flow(
        [node("in", "file_input", path="a.png"), node("r", "image_resize", width=5)],
        [("in.image", "r.image")],
    )
    request = RunRequest(compile_flow(f, registry()), {}, reuse_cache=True)
    runner = Runner(db, services, "preview")
    await runner.run(request)
    assert (await runner.run(request)).nodes["in"].cache_hit
    (tmp_path / "a.png").write_bytes(png(20, 10))
    os.utime(tmp_path / "a.png", ns=(1, 1))
    changed = await runner.run(request)
    assert not changed.nodes["in"].cache_hit
    assert changed.nodes["r"].outputs["image"].height == 2


async def test_a_session_opened_after_a_run_sees_its_last_writes(
    db: Database, services: Services
) -> None:
    compiled = compile_flow(
        flow([node("a", "gate"), node("b", "gate")], [("a.out", "b.in")]), registry()
    )
    runner = Runner(db, services, "preview")
    for _ in range(5):  # the run's totals are posted, not awaited: the session waits for them
        result = await runner.run(RunRequest(compiled, {}))
        async with db.new_session() as session:
            run = await run_store.get_run(session, result.run_id)
            nodes = await run_store.node_runs(session, result.run_id)
        assert run is not None
        assert run.status == "succeeded"
        assert sorted(n.node_id for n in nodes) == ["a", "b"]


async def test_submit_waits_for_the_queued_record(
    db: Database, services: Services, tmp_path: Path
) -> None:
    runner = Runner(db, services, "preview")
    request = RunRequest(compile_flow(flow([node("a", "gate")], []), registry()), {})
    blocker = sqlite3.connect(tmp_path / "plait.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock: no commit can land
    try:
        committed = asyncio.ensure_future(runner.submit(request))
        await asyncio.sleep(0.2)
        assert not committed.done()  # still waiting for the database
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    run_id = await asyncio.wait_for(committed, 30)
    async with db.new_session() as session:
        assert await run_store.get_run(session, run_id) is not None


async def test_a_run_starts_before_its_record_lands_but_pays_for_nothing_until_then(
    db: Database, services: Services, tmp_path: Path
) -> None:
    runner = Runner(db, services, "preview")
    compiled = compile_flow(
        flow([node("a", "gate"), node("b", "reach")], [("a.out", "b.in")]), registry()
    )
    blocker = sqlite3.connect(tmp_path / "plait.db", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # holds the write lock: no commit can land
    try:
        Gate.entered = asyncio.Event()
        task = asyncio.ensure_future(runner.run(RunRequest(compiled, {})))
        await asyncio.wait_for(Gate.entered.wait(), 10)  # the node inside Plait runs at once
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), 0.2)
        assert Reach.calls == []  # the outward call waits for the record
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    result = await asyncio.wait_for(task, 30)
    assert Reach.calls == ["b"]
    async with db.new_session() as session:
        run = await run_store.get_run(session, result.run_id)
    assert run is not None
    assert run.status == "succeeded"
