"""Signals within one process (the default of `plait serve`): a message is handed to
this process's listeners at once, in the publisher's call."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from plait.signals.base import Callback, Hub, Message, Subscribing


class InMemorySignals(Subscribing):
    shared = False

    def __init__(self) -> None:
        self._hub = Hub()

    async def publish(self, channel: str, message: Message) -> None:
        self._hub.dispatch(channel, message)

    @asynccontextmanager
    async def listen(self, channel: str, callback: Callback) -> AsyncIterator[None]:
        self._hub.add(channel, callback)
        try:
            yield
        finally:
            self._hub.remove(channel, callback)

    async def close(self) -> None:
        self._hub.listeners.clear()
