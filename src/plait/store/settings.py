"""Repository functions for stored settings (a small key-value table)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from plait.store.tables import StoredSetting, utcnow


async def get_setting(session: AsyncSession, key: str) -> str | None:
    row = await session.get(StoredSetting, key)
    return None if row is None else row.value


async def put_setting(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(StoredSetting, key)
    if row is None:
        session.add(StoredSetting(key=key, value=value))
    else:
        row.value, row.updated_at = value, utcnow()
    await session.flush()


async def delete_setting(session: AsyncSession, key: str) -> None:
    row = await session.get(StoredSetting, key)
    if row is not None:
        await session.delete(row)
