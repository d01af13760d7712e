"""Run events: what the executor reports as a run proceeds.

The executor emits events synchronously to an `EventBus`. Subscribers (live
streams to the canvas) each read their own asyncio queue, so a slow subscriber
never holds the run up; listeners (the run recorder) are called on the spot and
must be quick.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class EventKind(StrEnum):
    RUN_STARTED = "run_started"
    NODE_STARTED = "node_started"
    NODE_FINISHED = "node_finished"
    NODE_CACHED = "node_cached"
    NODE_FAILED = "node_failed"
    NODE_SKIPPED = "node_skipped"
    RUN_FINISHED = "run_finished"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    run_id: str
    node_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "run_id": self.run_id,
            "node_id": self.node_id,
            "at": self.at,
            **self.data,
        }


_CLOSE = object()


class EventBus:
    """Fan-out of events to any number of subscribers' queues.

    With `replay=True` the bus keeps every event, and a late subscriber (a live
    stream opened after the run started) first receives what it missed.
    """

    def __init__(self, *, replay: bool = False) -> None:
        self._queues: list[asyncio.Queue[Any]] = []
        self._listeners: list[Callable[[Event], None]] = []
        self._history: list[Event] | None = [] if replay else None
        self.closed = False

    def emit(self, event: Event) -> None:
        if self._history is not None:
            self._history.append(event)
        for listener in self._listeners:
            listener(event)
        for queue in self._queues:
            queue.put_nowait(event)

    def history(self) -> list[Event]:
        """The events so far (a bus made with `replay=True`; else none)."""
        return list(self._history or ())

    def listen(self, listener: Callable[[Event], None]) -> None:
        """Call `listener` with every event from now on, as it is emitted."""
        self._listeners.append(listener)

    def close(self) -> None:
        self.closed = True
        for queue in self._queues:
            queue.put_nowait(_CLOSE)

    def subscribe(self) -> Subscription:
        queue: asyncio.Queue[Any] = asyncio.Queue()
        for event in self._history or ():
            queue.put_nowait(event)
        if self.closed:
            queue.put_nowait(_CLOSE)
        self._queues.append(queue)
        return Subscription(queue)


class Subscription:
    def __init__(self, queue: asyncio.Queue[Any]):
        self._queue = queue

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        while (item := await self._queue.get()) is not _CLOSE:
            yield item

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Events grouped: each batch is everything that arrived while the last was handled."""
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            closed = batch[-1] is _CLOSE
            events = [e for e in batch if e is not _CLOSE]
            if events:
                yield events
            if closed:
                return
