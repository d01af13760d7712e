"""Repository functions for the node-output cache (values arrive JSON-ready)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.tables import NodeCacheEntry


async def get_entry(session: AsyncSession, key: str) -> dict[str, Any] | None:
    entry = await session.get(NodeCacheEntry, key)
    return None if entry is None else entry.outputs


async def put_entry(session: AsyncSession, key: str, outputs: dict[str, Any]) -> None:
    """Keeps `outputs` under `key`, replacing an older entry (a fresh take is the newest)."""
    entry = await session.get(NodeCacheEntry, key)
    if entry is None:
        session.add(NodeCacheEntry(key=key, outputs=outputs))
    else:
        entry.outputs = outputs
