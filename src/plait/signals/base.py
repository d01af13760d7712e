"""The signals seam: messages published on a named channel reach every process's
listeners of that channel, as they happen.

Signals are news, not records: a listener that joins late does not get what was said
before it joined, and a message said while a process is cut off is lost to it. What
must not be lost lives in the database; a signal only says "look now" sooner than
polling would. A message is a JSON object (a dict) or bytes; receivers must not change
it (in one process every listener gets the same object).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol

from plait.errors import PlaitError

log = logging.getLogger(__name__)

Message = dict[str, Any] | bytes
Callback = Callable[[Message], None]


class SignalsUnavailable(PlaitError):
    """Listening failed: the signals' service (Redis) cannot be reached."""


class Signals(Protocol):
    @property
    def shared(self) -> bool:
        """Whether messages reach other processes (False: this process only)."""
        ...

    async def publish(self, channel: str, message: Message) -> None:
        """Say `message` on `channel` to everyone listening now (no one: it is dropped)."""
        ...

    def listen(self, channel: str, callback: Callback) -> AbstractAsyncContextManager[None]:
        """Call `callback` (in the event loop; it must be quick) with each message on
        `channel` from when the context is entered until it is left. `SignalsUnavailable`
        when the channel cannot be listened to."""
        ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[Subscription]:
        """The messages on `channel` while the context lasts, to read at the reader's pace."""
        ...

    async def close(self) -> None: ...


class Subscription:
    """Messages of one channel, queued as they arrive (read with `get` or `async for`)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[Message] = asyncio.Queue()

    def deliver(self, message: Message) -> None:
        self._queue.put_nowait(message)

    async def get(self) -> Message:
        return await self._queue.get()

    def __aiter__(self) -> AsyncIterator[Message]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[Message]:
        while True:
            yield await self._queue.get()


class Hub:
    """This process's listeners by channel, and the fan-out of a message to them."""

    def __init__(self) -> None:
        self.listeners: dict[str, list[Callback]] = {}

    def add(self, channel: str, callback: Callback) -> bool:
        """Add a listener; True when it is the channel's first."""
        callbacks = self.listeners.setdefault(channel, [])
        callbacks.append(callback)
        return len(callbacks) == 1

    def remove(self, channel: str, callback: Callback) -> bool:
        """Remove a listener; True when the channel has none left."""
        callbacks = self.listeners.get(channel)
        if callbacks is None:
            return False
        callbacks.remove(callback)
        if callbacks:
            return False
        del self.listeners[channel]
        return True

    def dispatch(self, channel: str, message: Message) -> None:
        for callback in self.listeners.get(channel, ()):
            try:
                callback(message)
            except Exception:  # one broken listener must not silence the others
                log.exception("a listener of signal channel %r failed", channel)


class Subscribing:
    """`subscribe` for any implementation of `listen`."""

    def listen(self, channel: str, callback: Callback) -> AbstractAsyncContextManager[None]:
        raise NotImplementedError

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription()
        async with self.listen(channel, subscription.deliver):
            yield subscription
