"""The node-output cache: a node whose type, config and inputs are unchanged is not run again.

The key follows ComfyUI's input-signature idea: node type and version, the
rendered config, the content hashes of the inputs, and whatever else the node
type says its result depends on (`cache_salt`, e.g. a file's size and mtime).
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel

from plait.engine import values
from plait.nodes.base import NodeType
from plait.store import cache as cache_store
from plait.store.db import Database


class NodeCache(Protocol):
    async def get(self, key: str) -> dict[str, Any] | None: ...

    async def put(self, key: str, outputs: dict[str, Any]) -> None: ...


class MemoryNodeCache:
    """A process-local cache; the store has a persistent one."""

    def __init__(self) -> None:
        self._entries: dict[str, Any] = {}

    async def get(self, key: str) -> dict[str, Any] | None:
        entry = self._entries.get(key)
        return None if entry is None else values.from_json(entry)

    async def put(self, key: str, outputs: dict[str, Any]) -> None:
        self._entries[key] = values.to_json(outputs)


def cache_key(
    node_type: NodeType[Any], config: BaseModel, inputs: dict[str, Any], salt: str
) -> str:
    return values.digest(
        {
            "type": node_type.type,
            "version": node_type.version,
            "config": config.model_dump(mode="json"),
            "inputs": inputs,
            "salt": salt,
        }
    )


class StoredNodeCache:
    """The cache kept in the database, so it outlives the process."""

    def __init__(self, db: Database):
        self.db = db

    async def get(self, key: str) -> dict[str, Any] | None:
        async with self.db.new_session(after_journal=False) as session:
            entry = await cache_store.get_entry(session, key)
        return None if entry is None else values.from_json(entry)

    async def put(self, key: str, outputs: dict[str, Any]) -> None:
        async with self.db.new_session(after_journal=False) as session, session.begin():
            await cache_store.put_entry(session, key, values.to_json(outputs))


class KeepingCache:
    """Keeps each output for a later run to reuse but answers no lookup: the run computes
    every node fresh (an editor run without "Reuse unchanged outputs")."""

    def __init__(self, kept: NodeCache):
        self.kept = kept

    async def get(self, key: str) -> dict[str, Any] | None:
        return None

    async def put(self, key: str, outputs: dict[str, Any]) -> None:
        await self.kept.put(key, outputs)
