"""The writes a run makes as it goes, as journal operations: prepared SQLAlchemy Core
statements, cheap enough to batch hundreds of runs' rows into one commit."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, update
from sqlalchemy.dialects import postgresql, sqlite

from plait.store.journal import Write
from plait.store.tables import FlowDocument, NodeRun, Run, utcnow

_runs: Table = Run.__table__  # type: ignore[assignment]
_nodes: Table = NodeRun.__table__  # type: ignore[assignment]
_documents: Table = FlowDocument.__table__  # type: ignore[assignment]

_RUN_DEFAULTS = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
_INSERT_RUN = insert(_runs)
_INSERT_NODES = insert(_nodes)
_BY_ID = _runs.c.id == bindparam("run_id")
_MARK_RUNNING = update(_runs).where(_BY_ID)
_FINISH = update(_runs).where(_BY_ID)
_FORGET_NODES = delete(_nodes).where(
    _nodes.c.run_id == bindparam("run_id"), _nodes.c.status != "succeeded"
)
_INSERT_DOCUMENT = {
    "sqlite": sqlite.insert(_documents).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_documents).on_conflict_do_nothing(),
}


def create_run(row: dict[str, Any], document: dict[str, Any] | None) -> Write:
    """Insert a queued run (and its flow document, unless `document` is None: known stored)."""

    def write(conn: Connection) -> None:
        if document is not None:
            statement = _INSERT_DOCUMENT[conn.dialect.name]
            conn.execute(
                statement, {"hash": row["flow_hash"], "document": document, "created_at": utcnow()}
            )
        conn.execute(
            _INSERT_RUN, {**_RUN_DEFAULTS, "status": "queued", "created_at": utcnow(), **row}
        )

    return write


def mark_running(run_id: str, backend: str) -> Write:
    def write(conn: Connection) -> None:
        conn.execute(
            _MARK_RUNNING.values(status="running", started_at=utcnow(), backend=backend),
            {"run_id": run_id},
        )

    return write


def insert_nodes(run_id: str, rows: list[dict[str, Any]]) -> Write:
    def write(conn: Connection) -> None:
        if rows:
            conn.execute(_INSERT_NODES, [{"run_id": run_id, **row} for row in rows])

    return write


def finish_run(run_id: str, fields: dict[str, Any], rows: list[dict[str, Any]]) -> Write:
    """The nodes not yet written, then the run's totals and status."""
    nodes = insert_nodes(run_id, rows)

    def write(conn: Connection) -> None:
        nodes(conn)
        conn.execute(_FINISH.values(**fields, finished_at=utcnow()), {"run_id": run_id})

    return write


def forget_unsettled_nodes(run_id: str) -> Write:
    """Before a run is resumed: drop rows of nodes that will run again."""

    def write(conn: Connection) -> None:
        conn.execute(_FORGET_NODES, {"run_id": run_id})

    return write
