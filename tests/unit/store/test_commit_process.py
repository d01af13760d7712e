"""The commit process: the journal's rows committed in a child, with the journal's rules."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, MetaData, select
from sqlalchemy.exc import IntegrityError

from plait.store.commit_process import CommitProcess
from plait.store.db import sync_engine
from plait.store.journal import Journal
from tests.unit.store.test_journal import INSERT, SET_STATE, items, metadata, states


def tables() -> MetaData:
    return metadata  # the journal tests' table, for the child to find


class Local:
    """The journal's engine in this process, counting how often it was wanted."""

    def __init__(self, url: str):
        self.url = url
        self.opened = 0
        self.engine = sync_engine(url)

    def __call__(self) -> Engine:
        self.opened += 1
        return self.engine


@pytest.fixture
def local(tmp_path: Path) -> Iterator[Local]:
    local = Local(f"sqlite:///{tmp_path / 'journal.db'}")
    metadata.create_all(local.engine)
    yield local
    local.engine.dispose()


def journal(local: Local) -> tuple[Journal, CommitProcess]:
    committer = CommitProcess(local.url, tables)
    return Journal(local, committer=committer), committer


async def test_rows_commit_in_the_child(local: Local) -> None:
    journal_, committer = journal(local)
    when = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
    posted = []
    for i in range(20):  # as concurrent runs hand them in
        posted.append(journal_.post(INSERT.rows({"id": i, "state": "running", "seen": when})))
        posted.append(journal_.post(SET_STATE.rows({"item": i, "state": "done"})))
    await asyncio.gather(*posted)
    await journal_.write(SET_STATE.rows({"item": 3, "state": "again"}))
    await journal_.write(INSERT.rows({"id": 99, "state": "queued"}))  # a column default
    child = committer.pid
    await journal_.close()
    assert states(local.engine) == {**dict.fromkeys(range(20), "done"), 3: "again", 99: "queued"}
    assert child is not None
    assert child != os.getpid()
    assert local.opened == 0  # nothing was committed in this process
    with local.engine.connect() as conn:
        assert conn.execute(select(items.c.seen).where(items.c.id == 99)).scalar() is not None


async def test_a_flush_waits_for_the_child_s_commit_and_leaves_the_batch_to_it(
    local: Local,
) -> None:
    """A reader's flush (every new session makes one) must not pull the rows waiting with
    it out of the child: they would commit in this process, holding its interpreter lock."""
    journal_, _ = journal(local)
    await journal_.write(INSERT.rows({"id": 0, "state": "queued"}))  # the child is up
    for i in range(1, 6):
        journal_.post(INSERT.rows({"id": i, "state": "queued"}))  # not awaited
    await journal_.flush()
    assert states(local.engine) == dict.fromkeys(range(6), "queued")  # committed by now
    await journal_.close()
    assert local.opened == 0  # nothing was committed in this process


async def test_a_batch_with_a_function_write_commits_here_in_order(local: Local) -> None:
    journal_, _ = journal(local)
    seen: list[dict[int, str]] = []

    def look(conn: Connection) -> None:
        seen.append({row.id: row.state for row in conn.execute(select(items))})

    await journal_.write(INSERT.rows({"id": 1, "state": "queued"}))  # the child's
    first = journal_.post((SET_STATE.rows({"item": 1, "state": "running"}), look))
    second = journal_.post(SET_STATE.rows({"item": 1, "state": "done"}))
    await asyncio.gather(first, second)
    await journal_.close()
    assert seen == [{1: "running"}]  # after the child's commit, before the next update
    assert states(local.engine) == {1: "done"}
    assert local.opened == 1


async def test_a_bad_write_fails_only_its_caller_with_the_database_s_error(local: Local) -> None:
    journal_, _ = journal(local)
    await journal_.write(INSERT.rows({"id": 1, "state": "old"}))
    good = journal_.post(INSERT.rows({"id": 2, "state": "new"}))
    bad = journal_.post(INSERT.rows({"id": 1, "state": "duplicate"}))
    results = await asyncio.gather(good, bad, return_exceptions=True)
    await journal_.close()
    assert results[0] is None
    assert isinstance(results[1], IntegrityError)  # callers catch it (Idempotency-Key races)
    assert states(local.engine) == {1: "old", 2: "new"}


async def test_a_child_that_died_is_replaced_and_close_stops_the_child(local: Local) -> None:
    journal_, committer = journal(local)
    await journal_.write(INSERT.rows({"id": 1, "state": "queued"}))
    first = committer.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    # a batch in flight when the child dies fails; one handed in after it, does not
    maybe = await asyncio.gather(
        journal_.write(SET_STATE.rows({"item": 1, "state": "maybe"})), return_exceptions=True
    )
    assert maybe[0] is None or "the commit process stopped" in str(maybe[0])
    await journal_.write(SET_STATE.rows({"item": 1, "state": "done"}))
    second = committer.pid
    await journal_.close()
    assert second is not None
    assert second != first
    assert states(local.engine) == {1: "done"}
    assert committer.pid is None
    with pytest.raises(ProcessLookupError):  # stopped and reaped by close()
        os.kill(second, 0)


async def test_ctrl_c_leaves_the_child_to_the_parent_s_last_flush(local: Local) -> None:
    journal_, committer = journal(local)
    await journal_.write(INSERT.rows({"id": 1, "state": "queued"}))
    child = committer.pid
    assert child is not None
    os.kill(child, signal.SIGINT)  # a terminal's Ctrl+C goes to the whole process group
    await journal_.write(SET_STATE.rows({"item": 1, "state": "done"}))
    assert committer.pid == child
    await journal_.close()
    assert states(local.engine) == {1: "done"}
    assert local.opened == 0


def test_a_script_without_a_main_guard_is_not_run_again_by_the_child(tmp_path: Path) -> None:
    script = tmp_path / "serve.py"
    script.write_text(
        textwrap.dedent(f"""
        import asyncio
        from plait.store import run_writes
        from plait.store.db import open_database

        print("the script ran", flush=True)

        async def main():
            url = "sqlite+aiosqlite:///{tmp_path / "plait.db"}"
            db = await open_database(url, commit_apart=True)
            await db.journal.write(run_writes.forget_unsettled_nodes("no-such-run"))
            print("committed by", db.committer.pid, flush=True)
            await db.close()

        asyncio.run(main())
        """)
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    lines = done.stdout.splitlines()
    assert lines[0] == "the script ran"
    assert lines[1].startswith("committed by ")
    assert len(lines) == 2  # a multiprocessing child would have printed the first line again


async def test_a_child_that_cannot_start_leaves_the_batch_to_the_journal(
    local: Local, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    committer = CommitProcess(local.url, tables, python=str(tmp_path / "no-such-python"))
    journal_ = Journal(local, committer=committer)
    await journal_.write(INSERT.rows({"id": 1, "state": "queued"}))
    await journal_.close()
    assert states(local.engine) == {1: "queued"}
    assert local.opened == 1  # committed in this process
    assert "cannot start the commit process" in caplog.text


async def test_a_value_that_cannot_cross_is_committed_here_and_the_child_goes_on(
    local: Local,
) -> None:
    class Label(str):  # a local class: the database takes it, pickle cannot
        pass

    journal_, committer = journal(local)
    await journal_.write(INSERT.rows({"id": 1, "state": Label("here")}))
    assert local.opened == 1  # committed in this process
    await journal_.write(INSERT.rows({"id": 2, "state": "there"}))  # the child learns INSERT now
    child = committer.pid
    await journal_.close()
    assert child is not None
    assert states(local.engine) == {1: "here", 2: "there"}
