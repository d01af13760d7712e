"""Small builders shared by tests: flows from compact descriptions, images, runtimes."""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image

from plait.flows.model import Flow

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "flows"
HEIC_PHOTO = ROOT / "tests" / "data" / "photo.heic"  # 64 x 48, see tests/data/README.md


def flow(nodes: list[dict[str, Any]], edges: list[tuple[str, str]] = ()) -> Flow:  # type: ignore[assignment]
    """A Flow from node dicts (id, type, config) and (from, to) edge pairs."""
    return Flow.model_validate(
        {"format": 1, "nodes": nodes, "edges": [{"from": a, "to": b} for a, b in edges]}
    )


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "config": config}


def png(width: int, height: int, color: tuple[int, ...] | str = (200, 30, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def open_image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


POLL_FIRST, POLL_MOST = 0.01, 0.1  # seconds between polls: at first, and at most


def until(condition: Callable[[], bool], what: str, seconds: float = 30) -> None:
    """Poll `condition` until it holds; fail naming `what` after `seconds`. For waiting on
    another process or thread (a server, the fake), never for timing. The pause between
    polls grows from 10 to 100 ms: a quick condition is seen at once, and a long wait (a
    process starting, a lease expiring) does not spend the CPU it waits on polling."""
    deadline = time.monotonic() + seconds
    pause = POLL_FIRST
    while not _holds(condition):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(pause)
        pause = min(pause * 1.5, POLL_MOST)


def _holds(condition: Callable[[], bool]) -> bool:
    """`condition()`; False when a polled server had just closed the idle keep-alive
    connection the request went out on (uvicorn closes one idle for 5 s: a race, not an
    answer). A server that is gone fails the next poll with a connect error."""
    import httpx

    try:
        return condition()
    except httpx.RemoteProtocolError:
        return False


def stored_rows(data_dir: Path, table: str | None = None) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (or of `table`) of the database a test server on
    `data_dir` uses (`tests.server.server_settings`: SQLite, or PostgreSQL under
    PLAIT_TEST_DATABASE); a SQLite file's WAL is checkpointed first."""
    from sqlalchemy import inspect, select

    from plait.store.db import sync_engine
    from plait.store.tables import Base
    from tests.server import server_settings

    engine = sync_engine(server_settings(data_dir).sqlalchemy_url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            names = [table] if table else inspect(conn).get_table_names()
            known = Base.metadata.tables
            return {
                name: [tuple(row) for row in conn.execute(select(known[name]))]
                for name in names
                if name in known
            }
    finally:
        engine.dispose()


class UtcClock:
    """A settable clock for leases and claims: `advance` moves it, nothing sleeps."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
