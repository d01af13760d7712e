"""Repository functions for flows, their immutable versions, publication and trigger secrets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, null, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from plait.ids import new_id
from plait.store.documents import save_document
from plait.store.tables import (
    FlowDocument,
    FlowRecord,
    FlowVersion,
    Publication,
    Run,
    TriggerSecret,
    utcnow,
)


@dataclass(frozen=True)
class PublishedFlow:
    """What a trigger secret leads to: the flow and the document it serves."""

    flow_id: str
    version: int
    hash: str
    document: dict[str, Any]
    rate_limit_per_minute: int
    secret_expires_at: datetime | None
    daily_budget_usd: float | None


async def create_flow(
    session: AsyncSession,
    owner_id: str | None,
    name: str,
    rate_limit_per_minute: int,
    flow_id: str | None = None,
) -> FlowRecord:
    """A new flow with no versions; `flow_id` as asked for (a pushed file's), else random."""
    flow = FlowRecord(
        id=flow_id or new_id()[:16],
        owner_id=owner_id,
        name=name,
        rate_limit_per_minute=rate_limit_per_minute,
    )
    session.add(flow)
    await session.flush()
    return flow


async def get_flow(session: AsyncSession, flow_id: str) -> FlowRecord | None:
    return await session.get(FlowRecord, flow_id)


async def list_flows(session: AsyncSession) -> list[FlowRecord]:
    return list(await session.scalars(select(FlowRecord).order_by(FlowRecord.updated_at.desc())))


async def delete_flow(session: AsyncSession, flow_id: str) -> None:
    for table in (TriggerSecret, Publication, FlowVersion):
        await session.execute(delete(table).where(table.flow_id == flow_id))
    await session.execute(delete(FlowRecord).where(FlowRecord.id == flow_id))


async def save_version(
    session: AsyncSession,
    flow: FlowRecord,
    digest: str,
    document: dict[str, Any],
    created_by: str | None,
    message: str | None = None,
) -> int:
    """Make `document` the newest version unless it equals the newest already."""
    current = await get_version(session, flow.id, flow.current_version)
    if current is not None and current.hash == digest:
        return flow.current_version
    await save_document(session, digest, document)
    flow.current_version += 1
    session.add(
        FlowVersion(
            flow_id=flow.id,
            number=flow.current_version,
            hash=digest,
            created_by=created_by,
            message=message or None,
        )
    )
    flow.name = str(document.get("name") or flow.name)
    flow.description = str(document.get("description") or "")
    flow.updated_at = utcnow()
    await session.flush()
    return flow.current_version


async def get_version(session: AsyncSession, flow_id: str, number: int) -> FlowVersion | None:
    return await session.get(FlowVersion, (flow_id, number))


async def version_document(
    session: AsyncSession, flow_id: str, number: int
) -> dict[str, Any] | None:
    row = await session.execute(
        select(FlowDocument.document)
        .join(FlowVersion, FlowVersion.hash == FlowDocument.hash)
        .where(FlowVersion.flow_id == flow_id, FlowVersion.number == number)
    )
    document = row.scalar()
    return None if document is None else dict(document)


async def version_documents(session: AsyncSession, flow_id: str) -> dict[str, dict[str, Any]]:
    """The documents of a flow's versions, by content hash."""
    rows = await session.execute(
        select(FlowDocument.hash, FlowDocument.document)
        .join(FlowVersion, FlowVersion.hash == FlowDocument.hash)
        .where(FlowVersion.flow_id == flow_id)
    )
    return {digest: dict(document) for digest, document in rows}


async def version_numbers(
    session: AsyncSession, flow_id: str, digests: list[str]
) -> dict[str, int]:
    """The newest version number of each content hash among a flow's versions."""
    rows = await session.execute(
        select(FlowVersion.hash, func.max(FlowVersion.number))
        .where(FlowVersion.flow_id == flow_id, FlowVersion.hash.in_(set(digests)))
        .group_by(FlowVersion.hash)
    )
    return dict(rows.all())


async def list_versions(session: AsyncSession, flow_id: str) -> list[FlowVersion]:
    query = (
        select(FlowVersion)
        .where(FlowVersion.flow_id == flow_id)
        .order_by(FlowVersion.number.desc())
    )
    return list(await session.scalars(query))


async def get_publication(session: AsyncSession, flow_id: str) -> Publication | None:
    return await session.get(Publication, flow_id)


async def publications(session: AsyncSession, flow_ids: list[str]) -> dict[str, int]:
    rows = await session.execute(
        select(Publication.flow_id, Publication.version).where(Publication.flow_id.in_(flow_ids))
    )
    return {row.flow_id: row.version for row in rows}


async def publish(session: AsyncSession, flow_id: str, version: int) -> Publication:
    publication = await session.get(Publication, flow_id)
    if publication is None:
        publication = Publication(flow_id=flow_id, version=version)
        session.add(publication)
    else:
        publication.version, publication.published_at = version, utcnow()
    await session.flush()
    return publication


async def unpublish(session: AsyncSession, flow_id: str) -> None:
    await session.execute(delete(Publication).where(Publication.flow_id == flow_id))


async def live_secrets(session: AsyncSession, flow_id: str) -> list[TriggerSecret]:
    """The flow's usable secrets, newest first."""
    query = (
        select(TriggerSecret)
        .where(TriggerSecret.flow_id == flow_id, _unexpired())
        .order_by(TriggerSecret.created_at.desc())
    )
    return list(await session.scalars(query))


async def add_secret(
    session: AsyncSession, flow_id: str, secret_hash: str, hint: str, retire_at: datetime | None
) -> None:
    """Add a new secret; the flow's older secrets stop working at `retire_at` (now if None)."""
    await session.execute(
        update(TriggerSecret)
        .where(TriggerSecret.flow_id == flow_id, _unexpired())
        .values(expires_at=retire_at or utcnow())
    )
    session.add(TriggerSecret(secret_hash=secret_hash, flow_id=flow_id, hint=hint))
    await session.flush()


async def published_by_secret(session: AsyncSession, secret_hash: str) -> PublishedFlow | None:
    """The published document a trigger secret serves, or None (unknown, expired, unpublished)."""
    row = (
        await session.execute(
            _served(TriggerSecret.expires_at)
            .join(TriggerSecret, TriggerSecret.flow_id == Publication.flow_id)
            .where(TriggerSecret.secret_hash == secret_hash, _unexpired())
        )
    ).first()
    return None if row is None else PublishedFlow(*row)


@dataclass(frozen=True)
class ToolFlow:
    """A published flow offered to MCP clients: what it serves, and how it is named."""

    published: PublishedFlow
    name: str
    description: str
    created_at: datetime


async def mcp_flows(session: AsyncSession) -> list[ToolFlow]:
    """Every published flow whose publication offers it to MCP clients, oldest first."""
    rows = await session.execute(
        _served(null(), FlowRecord.name, FlowRecord.description, FlowRecord.created_at)
        .where(FlowRecord.mcp.is_(True))
        .order_by(FlowRecord.created_at, FlowRecord.id)
    )
    return [ToolFlow(PublishedFlow(*row[:_PUBLISHED]), *row[_PUBLISHED:]) for row in rows]


async def trigger_spend_since(session: AsyncSession, flow_id: str, since: datetime) -> float:
    """The recorded cost of the flow's trigger runs created at or after `since`."""
    total = await session.scalar(
        select(func.coalesce(func.sum(Run.cost_usd), 0.0)).where(
            Run.flow_id == flow_id, Run.source == "trigger", Run.created_at >= since
        )
    )
    return float(total or 0.0)


_PUBLISHED = 7  # the columns of a PublishedFlow


def _served(secret_expires_at: Any, *more: Any) -> Select[Any]:
    """Publications with the columns of a `PublishedFlow` (the secret's expiry given: a
    column, or null), then `more`, joined to their flows and the documents they serve."""
    return (
        select(
            Publication.flow_id,
            Publication.version,
            FlowDocument.hash,
            FlowDocument.document,
            FlowRecord.rate_limit_per_minute,
            secret_expires_at,
            FlowRecord.daily_budget_usd,
            *more,
        )
        .join(FlowRecord, FlowRecord.id == Publication.flow_id)
        .join(
            FlowVersion,
            (FlowVersion.flow_id == Publication.flow_id)
            & (FlowVersion.number == Publication.version),
        )
        .join(FlowDocument, FlowDocument.hash == FlowVersion.hash)
    )


def _unexpired() -> Any:
    return or_(TriggerSecret.expires_at.is_(None), TriggerSecret.expires_at > utcnow())
