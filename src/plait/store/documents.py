"""Flow documents by content hash: stored once, whoever stores them first (a saved version,
a run, a batch), never changed."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.tables import FlowDocument, utcnow

_documents: Table = FlowDocument.__table__  # type: ignore[assignment]
_INSERT = {
    "sqlite": sqlite.insert(_documents).on_conflict_do_nothing(),
    "postgresql": postgresql.insert(_documents).on_conflict_do_nothing(),
}


def _values(digest: str, document: dict[str, Any]) -> dict[str, Any]:
    return {"hash": digest, "document": document, "created_at": utcnow()}


def _insert(dialect: str) -> Insert:
    return _INSERT[dialect]


def insert_document(conn: Connection, digest: str, document: dict[str, Any]) -> None:
    """Store `document` under `digest` unless it is there (for journal writes)."""
    conn.execute(_insert(conn.dialect.name), _values(digest, document))


async def save_document(session: AsyncSession, digest: str, document: dict[str, Any]) -> None:
    """Store `document` under `digest` unless it is there (in the session's transaction)."""
    await session.execute(_insert(session.get_bind().dialect.name), _values(digest, document))


async def flow_document(session: AsyncSession, digest: str) -> dict[str, Any] | None:
    row = await session.get(FlowDocument, digest)
    return None if row is None else dict(row.document)
