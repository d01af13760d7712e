"""The writes a run makes as it goes, as journal operations: prepared SQLAlchemy Core
statements, so the journal runs the rows of hundreds of runs as one executemany each.

Statements are numbered in the order one run makes them (see `plait.store.journal`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, or_, update

from plait.store.documents import insert_document
from plait.store.journal import Rows, Statement, Write
from plait.store.tables import NodeRun, Run, utcnow

_runs: Table = Run.__table__  # type: ignore[assignment]
_nodes: Table = NodeRun.__table__  # type: ignore[assignment]

_RUN_DEFAULTS = {"input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0}
# An UPDATE takes its SET clause from the parameters' keys; `run_id` is the WHERE.
_BY_ID = update(_runs).where(_runs.c.id == bindparam("run_id"))
_INSERT_RUN = Statement(insert(_runs), order=1)
_FORGET_NODES = Statement(
    delete(_nodes).where(_nodes.c.run_id == bindparam("run_id"), _nodes.c.status != "succeeded"),
    order=2,
)
_MARK_RUNNING = Statement(_BY_ID, order=3)
_IN_FLIGHT = "running"  # the status of a node row that marks a paid call under way
_MARK_NODE = Statement(insert(_nodes), order=4)
_UNMARK_NODE = Statement(
    delete(_nodes).where(
        _nodes.c.run_id == bindparam("run_id"),
        _nodes.c.node_id == bindparam("node_id"),
        _nodes.c.status == _IN_FLIGHT,
    ),
    order=5,
)
_UNMARK_RUN = Statement(
    delete(_nodes).where(_nodes.c.run_id == bindparam("run_id"), _nodes.c.status == _IN_FLIGHT),
    order=6,
)
_INSERT_NODES = Statement(insert(_nodes), order=7)
# The final write lands only if the run is still this process's (or nobody's: a CLI run):
# a process that lost its lease to another must not overwrite what the other records.
_FINISH = Statement(
    update(_runs).where(
        _runs.c.id == bindparam("run_id"),
        or_(_runs.c.lease_owner == bindparam("owner"), _runs.c.lease_owner.is_(None)),
    ),
    order=8,
)


def create_run(row: dict[str, Any], document: dict[str, Any] | None) -> Write:
    """Insert a queued run (and its flow document, unless `document` is None: known stored)."""
    run = _INSERT_RUN.rows({**_RUN_DEFAULTS, "status": "queued", "created_at": utcnow(), **row})
    if document is None:
        return run

    def store_document(conn: Connection) -> None:
        insert_document(conn, row["flow_hash"], document)

    return (store_document, run)


def running_fields(backend: str) -> dict[str, Any]:
    return {"status": "running", "started_at": utcnow(), "backend": backend}


def mark_running(run_id: str, backend: str) -> Write:
    return _MARK_RUNNING.rows({"run_id": run_id, **running_fields(backend)})


def insert_nodes(run_id: str, rows: list[dict[str, Any]]) -> Rows:
    return _INSERT_NODES.rows(*({"run_id": run_id, **row} for row in rows))


def mark_in_flight(run_id: str, node_id: str, node_type: str) -> Rows:
    """A paid call starts: if the process dies before the node settles, the row that
    resumes the run counts it as a call that may be paid twice."""
    row = {"run_id": run_id, "node_id": node_id, "node_type": node_type, "status": _IN_FLIGHT}
    return _MARK_NODE.rows({**row, "inputs": {}, "outputs": {}, "started_at": utcnow()})


def unmark_in_flight(run_id: str, node_id: str) -> Rows:
    return _UNMARK_NODE.rows({"run_id": run_id, "node_id": node_id})


def finish_run(
    run_id: str, fields: dict[str, Any], rows: list[dict[str, Any]], owner: str | None = None
) -> Write:
    """The nodes not yet written, then the run's totals and status, its lease cleared in
    the same write; `owner`: the process whose lease the run is under (None: unleased)."""
    lease = {"lease_owner": None, "lease_expires": None, "owner": owner}
    totals = _FINISH.rows({**fields, **lease, "finished_at": utcnow(), "run_id": run_id})
    return (_UNMARK_RUN.rows({"run_id": run_id}), insert_nodes(run_id, rows), totals)


def forget_unsettled_nodes(run_id: str) -> Write:
    """Before a run is resumed: drop rows of nodes that will run again."""
    return _FORGET_NODES.rows({"run_id": run_id})
