"""What processes tell each other about runs, over `Signals` (see `plait.signals`).

- `runs:settled` — a run settled (or will not run): every process wakes its waiters for
  it (`LiveRuns.settled_elsewhere`), which then read the run's record.
- `runs:cancel` — a request to cancel a run: the process executing it stops it, and one
  that holds it queued does not start it.
- `run:<id>:events` — with signals that cross processes, the node events of a run as it
  executes, once a stream asked for them (`runs:replay`), then its `run_finished` once
  its record is committed: a live stream on a process that does not execute the run
  follows it there (`api/routes/runs.py`). A run nobody follows says only `run_finished`.
- `runs:replay` — a stream that follows a run asks for its events: the process executing
  the run says its events so far on the run's channel, and each one after as it comes.

Within one process (`InMemorySignals`) a cancel request is heard by this process only, and
runs executing here are not relayed at all: `LiveRuns` serves their streams and wakes
their waiters, so the one-process path pays nothing for signals.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

from plait.engine.events import Event, EventBus, EventKind
from plait.engine.live import LiveRuns
from plait.engine.state import NodeState
from plait.engine.values import to_json
from plait.signals import Message, Signals

log = logging.getLogger(__name__)

SETTLED = "runs:settled"
CANCEL = "runs:cancel"
REPLAY = "runs:replay"
_CLOSE_SECONDS = 10.0  # at shutdown, what runs still have to say may take this long


def events_channel(run_id: str) -> str:
    return f"run:{run_id}:events"


def event_json(event: Event, states: dict[str, NodeState]) -> dict[str, Any]:
    """An event as JSON, with a finished node's outputs (not yet annotated with links)."""
    data = event.to_json()
    if event.node_id is not None and event.kind in (EventKind.NODE_FINISHED, EventKind.NODE_CACHED):
        node = states[event.node_id]
        data |= {
            "outputs": to_json(node.outputs),
            "cost_usd": node.usage.cost_usd,
            "input_tokens": node.usage.input_tokens,
            "output_tokens": node.usage.output_tokens,
            "backend": node.backend,
        }
    return data


class RunRelay:
    """Publishes what runs here do and hears what other processes say about runs.

    `flush` makes every write handed to the database so far visible to other processes
    (the journal's flush): a process told a run settled must find its record settled."""

    def __init__(self, signals: Signals, live: LiveRuns, flush: Callable[[], Awaitable[None]]):
        self.signals = signals
        self.live = live
        self.flush = flush
        self._stack = AsyncExitStack()
        self._cancel_here: Callable[[str], bool] = live.cancel
        self._pumps: set[asyncio.Task[None]] = set()
        self._reports: dict[str, RunReport] = {}  # runs executing here, relayed

    @property
    def shared(self) -> bool:
        return self.signals.shared

    async def start(self, cancel_here: Callable[[str], bool]) -> None:
        """Listen to the other processes. `cancel_here` stops a run executing here or keeps
        one queued here from starting (True: it was here)."""
        self._cancel_here = cancel_here
        await self._stack.enter_async_context(self.signals.listen(SETTLED, self._heard_settled))
        await self._stack.enter_async_context(self.signals.listen(CANCEL, self._heard_cancel))
        if self.shared:
            await self._stack.enter_async_context(self.signals.listen(REPLAY, self._heard_replay))

    async def close(self) -> None:
        """Stop listening, after what runs here still have to say has been said."""
        if self._pumps:
            await asyncio.wait(set(self._pumps), timeout=_CLOSE_SECONDS)
        await self._stack.aclose()

    def _heard_settled(self, message: Message) -> None:
        if isinstance(message, dict):
            self.live.settled_elsewhere(str(message["run_id"]))

    def _heard_cancel(self, message: Message) -> None:
        if isinstance(message, dict):
            self._cancel_here(str(message["run_id"]))

    def _heard_replay(self, message: Message) -> None:
        report = self._reports.get(str(message["run_id"])) if isinstance(message, dict) else None
        if report is not None:
            report.replay()

    async def request_replay(self, run_id: str) -> None:
        """Ask the process executing the run to say its events so far again."""
        await self.signals.publish(REPLAY, {"run_id": run_id})

    async def request_cancel(self, run_id: str) -> None:
        """Ask whichever process executes or holds the run to stop it."""
        await self.signals.publish(CANCEL, {"run_id": run_id})

    async def settled(self, run_id: str) -> None:
        """The run's record is settled (its writes committed): wake waiters everywhere."""
        await self.signals.publish(SETTLED, {"run_id": run_id})

    def follow(self, run_id: str, bus: EventBus, states: dict[str, NodeState]) -> RunReport | None:
        """Relay a run executing here to other processes: its events and, through
        `RunReport.ended`, that it settled. None when signals stay in this process: there,
        `LiveRuns` already serves the run's streams and wakes its waiters."""
        if not self.shared:
            return None
        report = RunReport(self, run_id, bus, states)
        bus.listen(report.heard)
        self._reports[run_id] = report
        return report

    def forget(self, run_id: str) -> None:
        self._reports.pop(run_id, None)

    def background(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._pumps.add(task)
        task.add_done_callback(self._pumps.discard)


class RunReport:
    """One run's events on their way to other processes, in order, ending with its
    `run_finished` and the settled signal once its record is committed."""

    def __init__(self, relay: RunRelay, run_id: str, bus: EventBus, states: dict[str, NodeState]):
        self._relay = relay
        self._run_id = run_id
        self._bus = bus
        self._states = states
        self._finished: dict[str, Any] | None = None
        self._followed = False  # a stream asked for the run's events (`replay`)
        self._outbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        relay.background(self._send())

    def heard(self, event: Event) -> None:
        if event.kind == EventKind.RUN_FINISHED:  # said once the record is committed
            self._finished = event.to_json()
        elif self._followed:
            self._outbox.put_nowait(event_json(event, self._states))

    def replay(self) -> None:
        """Say the events so far (again, to a stream that joined late: it drops repeats),
        and each event from now on."""
        self._followed = True
        for event in self._bus.history():
            if event.kind != EventKind.RUN_FINISHED:
                self.heard(event)

    def ended(self) -> None:
        """The run ended here (settled, or stopped with the process): `_send` says the
        rest, without holding the run up."""
        self._relay.forget(self._run_id)
        self._outbox.put_nowait(None)

    async def _send(self) -> None:
        signals, channel = self._relay.signals, events_channel(self._run_id)
        while (message := await self._outbox.get()) is not None:
            await signals.publish(channel, message)
        try:
            await self._relay.flush()
        except Exception as exc:  # a stopping database: waiters read what the record says
            log.warning("run %s: its record was not committed before: %s", self._run_id, exc)
        if self._finished is not None:
            await signals.publish(channel, self._finished)
        await self._relay.settled(self._run_id)
