"""Stored flow documents in their compiled form, kept by content hash (documents never
change, so an entry is never stale)."""

from __future__ import annotations

from typing import Any

from plait.flows.loader import flow_from_document
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.registry import Registry

_SIZE = 256


class CompiledFlows:
    def __init__(self, registry: Registry, size: int = _SIZE):
        self._registry = registry
        self._size = size
        self._by_digest: dict[str, CompiledFlow] = {}

    def get(self, digest: str) -> CompiledFlow | None:
        """The compiled form of a document compiled here before, if it is still kept."""
        return self._by_digest.get(digest)

    def of(self, digest: str, document: dict[str, Any]) -> CompiledFlow:
        """The compiled form of the document whose content hash is `digest`."""
        found = self._by_digest.get(digest)
        if found is None:
            found = compile_flow(flow_from_document(document), self._registry)
            if len(self._by_digest) >= self._size:
                self._by_digest.pop(next(iter(self._by_digest)))  # the oldest
            self._by_digest[digest] = found
        return found
