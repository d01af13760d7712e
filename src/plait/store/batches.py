"""Repository functions for batches and their rows. Writes are journal operations (group
commit: thousands of rows settle without a transaction each); reads take a session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.documents import insert_document
from plait.store.journal import Rows, Statement, Write
from plait.store.tables import Batch, BatchRow, Run, utcnow

_batches: Table = Batch.__table__  # type: ignore[assignment]
_rows: Table = BatchRow.__table__  # type: ignore[assignment]
_runs: Table = Run.__table__  # type: ignore[assignment]

_ROW = (_rows.c.batch_id == bindparam("b_id")) & (_rows.c.number == bindparam("b_number"))
_CHUNK = 500

# Row statuses. `pending`: no run yet; `running`: linked to a run that may not have ended.
PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED = (
    "pending",
    "running",
    "succeeded",
    "failed",
    "skipped",
)
# Server batch states (`batches.state`; batches the CLI runs have none).
ACTIVE, FINISHED, CANCELLED = "running", "finished", "cancelled"


def create_batch(
    batch: dict[str, Any], document: dict[str, Any], rows: list[dict[str, Any]]
) -> Write:
    """The flow document (once), the batch and all its rows as pending, in one transaction."""

    def write(conn: Connection) -> None:
        now = utcnow()
        insert_document(conn, batch["flow_hash"], document)
        conn.execute(insert(_batches), {**batch, "created_at": now})
        defaults = {"status": PENDING, "attempts": 0, "cost_usd": 0.0, "updated_at": now}
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            conn.execute(insert(_rows), [{**defaults, "batch_id": batch["id"], **r} for r in chunk])

    return write


# Prepared statements (the journal runs the rows of hundreds of rows as one executemany),
# numbered among a run's own (`plait.store.run_writes`): a row is linked to its run after
# the run is inserted (1) and before it is marked running (3); it settles after the run's
# totals (5). An UPDATE takes its SET clause from the parameters' keys.
_UPDATE_ROW = Statement(update(_rows).where(_ROW), order=2)
_SETTLE_ROW = Statement(
    update(_rows).where(_ROW).values(cost_usd=_rows.c.cost_usd + bindparam("b_cost")), order=6
)


def update_row(batch_id: str, number: int, **fields: Any) -> Rows:
    return _UPDATE_ROW.rows(
        {**fields, "updated_at": utcnow(), "b_id": batch_id, "b_number": number}
    )


def settle_row(
    batch_id: str,
    number: int,
    *,
    status: str,
    error: str | None,
    cost_usd: float,
    outputs: list[str] | None,
) -> Rows:
    """A row's outcome; `cost_usd` is added to what earlier attempts cost."""
    return _SETTLE_ROW.rows(
        {
            "status": status,
            "error": error,
            "outputs": outputs,
            "updated_at": utcnow(),
            "b_cost": cost_usd,
            "b_id": batch_id,
            "b_number": number,
        }
    )


def skip_rows(batch_id: str, numbers: list[int], reason: str) -> Write:
    def write(conn: Connection) -> None:
        statement = (
            update(_rows)
            .where(
                _rows.c.batch_id == batch_id,
                _rows.c.number.in_(bindparam("numbers", expanding=True)),
            )
            .values(status=SKIPPED, error=reason, updated_at=utcnow())
        )
        for start in range(0, len(numbers), _CHUNK):
            conn.execute(statement, {"numbers": numbers[start : start + _CHUNK]})

    return write


def set_batch_api(batch_id: str) -> Write:
    """The batch continues in Gemini Batch API mode (`--resume ID --batch-api`)."""

    def write(conn: Connection) -> None:
        conn.execute(update(_batches).where(_batches.c.id == batch_id).values(batch_api=True))

    return write


def set_out_dir(batch_id: str, out_dir: str) -> Write:
    def write(conn: Connection) -> None:
        conn.execute(update(_batches).where(_batches.c.id == batch_id).values(out_dir=out_dir))

    return write


async def get_batch(session: AsyncSession, batch_id: str) -> Batch | None:
    return await session.get(Batch, batch_id)


async def find_batches(session: AsyncSession, prefix: str) -> list[Batch]:
    """Batches whose id starts with `prefix` (ids may be abbreviated as runs' are)."""
    query = select(Batch).where(Batch.id.startswith(prefix, autoescape=True)).limit(2)
    return list(await session.scalars(query))


async def rows_of(session: AsyncSession, batch_id: str) -> list[BatchRow]:
    query = select(BatchRow).where(BatchRow.batch_id == batch_id).order_by(BatchRow.number)
    return list(await session.scalars(query))


async def runs_by_key(session: AsyncSession, keys: list[str]) -> dict[str, str]:
    """Run ids by idempotency key: runs created for a row whose link a crash lost."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), _CHUNK):
        query = select(Run.idempotency_key, Run.id).where(
            Run.flow_id.is_(None), Run.idempotency_key.in_(keys[start : start + _CHUNK])
        )
        found.update({str(k): run_id for k, run_id in (await session.execute(query)).all()})
    return found


def set_state(batch_id: str, state: str) -> Write:
    """The batch's state; once it ends, its lease (`plait.engine.leases`) is cleared in
    the same write."""
    values: dict[str, Any] = {"state": state}
    if state != ACTIVE:
        values |= {"lease_owner": None, "lease_expires": None}

    def write(conn: Connection) -> None:
        conn.execute(update(_batches).where(_batches.c.id == batch_id).values(values))

    return write


def reopen_rows(batch_id: str, statuses: tuple[str, ...]) -> Write:
    """Rows in `statuses` become pending, for whichever process drives the batch next."""

    def write(conn: Connection) -> None:
        query = update(_rows).where(_rows.c.batch_id == batch_id, _rows.c.status.in_(statuses))
        conn.execute(query.values(status=PENDING, updated_at=utcnow()))

    return write


def settle_unfinished(batch_id: str, reason: str) -> Write:
    """Rows not yet settled (pending, or running when a cancel stopped them) become skipped,
    and a run of theirs that has not ended (one a resume had adopted) is cancelled."""

    def write(conn: Connection) -> None:
        unsettled = select(_rows.c.run_id).where(
            _rows.c.batch_id == batch_id, _rows.c.status.in_((PENDING, RUNNING))
        )
        conn.execute(
            update(_runs)
            .where(_runs.c.id.in_(unsettled), _runs.c.status.in_(("queued", "running")))
            .values(status="cancelled", error=reason, finished_at=utcnow())
        )
        statement = (
            update(_rows)
            .where(_rows.c.batch_id == batch_id, _rows.c.status.in_((PENDING, RUNNING)))
            .values(status=SKIPPED, error=reason, updated_at=utcnow())
        )
        conn.execute(statement)

    return write


async def batches_in_state(session: AsyncSession, state: str) -> list[Batch]:
    query = select(Batch).where(Batch.state == state).order_by(Batch.created_at)
    return list(await session.scalars(query))


async def unowned_batches(session: AsyncSession, now: datetime) -> list[Batch]:
    """Running batches no live process drives: never claimed, released, or whose
    driver's lease ran out."""
    free = or_(Batch.lease_owner.is_(None), Batch.lease_expires < now)
    query = select(Batch).where(Batch.state == ACTIVE, free).order_by(Batch.created_at)
    return list(await session.scalars(query))


async def list_batches(session: AsyncSession, flow_id: str | None, limit: int) -> list[Batch]:
    """Newest first; only one flow's when `flow_id` is given."""
    query = select(Batch).order_by(Batch.created_at.desc()).limit(limit)
    if flow_id is not None:
        query = query.where(Batch.flow_id == flow_id)
    return list(await session.scalars(query))


async def batches_by_id(session: AsyncSession, batch_ids: list[str]) -> dict[str, Batch]:
    found: dict[str, Batch] = {}
    for start in range(0, len(batch_ids), _CHUNK):
        query = select(Batch).where(Batch.id.in_(batch_ids[start : start + _CHUNK]))
        found.update((batch.id, batch) for batch in await session.scalars(query))
    return found


Counts = tuple[dict[str, int], float]


async def status_counts(session: AsyncSession, batch_id: str) -> Counts:
    """How many rows are in each status, and the recorded cost of them all."""
    return (await status_counts_of(session, [batch_id]))[batch_id]


async def status_counts_of(session: AsyncSession, batch_ids: list[str]) -> dict[str, Counts]:
    """`status_counts` of each batch, in one query per `_CHUNK` batches."""
    found: dict[str, Counts] = {
        batch_id: (dict.fromkeys((PENDING, RUNNING, SUCCEEDED, FAILED, SKIPPED), 0), 0.0)
        for batch_id in batch_ids
    }
    for start in range(0, len(batch_ids), _CHUNK):
        query = (
            select(BatchRow.batch_id, BatchRow.status, func.count(), func.sum(BatchRow.cost_usd))
            .where(BatchRow.batch_id.in_(batch_ids[start : start + _CHUNK]))
            .group_by(BatchRow.batch_id, BatchRow.status)
        )
        for batch_id, status, count, spent in (await session.execute(query)).all():
            counts, cost = found[batch_id]
            counts[str(status)] = int(count)
            found[batch_id] = counts, cost + float(spent or 0.0)
    return found


async def rows_page(
    session: AsyncSession, batch_id: str, offset: int, limit: int, status: str | None
) -> list[BatchRow]:
    query = select(BatchRow).where(BatchRow.batch_id == batch_id)
    if status is not None:
        query = query.where(BatchRow.status == status)
    query = query.order_by(BatchRow.number).offset(offset).limit(limit)
    return list(await session.scalars(query))


async def run_results(session: AsyncSession, run_ids: list[str]) -> dict[str, Any]:
    """The stored results of these runs, by run id."""
    found: dict[str, Any] = {}
    for start in range(0, len(run_ids), _CHUNK):
        query = select(Run.id, Run.result).where(Run.id.in_(run_ids[start : start + _CHUNK]))
        found.update((run_id, result) for run_id, result in (await session.execute(query)).all())
    return found


def set_budget(batch_id: str, budget_usd: float) -> Write:
    def write(conn: Connection) -> None:
        statement = update(_batches).where(_batches.c.id == batch_id)
        conn.execute(statement.values(budget_usd=budget_usd))

    return write
