"""Running a tool call: the published flow's pinned version, through the very code its HTTP
Trigger uses (rate limit, daily budget, Idempotency-Key, input checks, launching, waiting).

Every use of the published-flow services is in this module, so that they can move without
touching the rest of `plait.mcp`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from plait.engine.values import images_in
from plait.errors import PlaitError
from plait.flows.compiled import CompiledFlows
from plait.mcp.tools import IDEMPOTENCY_ARGUMENT, FlowTool
from plait.media.image_ref import ImageRef
from plait.publishing.calls import Services, checked_idempotency_key, count_call, launch
from plait.publishing.inputs import trigger_inputs
from plait.publishing.outcome import Outcome, wait_outcome
from plait.publishing.refusals import CallRefused
from plait.store import flows as flow_store
from plait.store.flows import ToolFlow

Progress = Callable[[float, str], Awaitable[None]]
_MAX_WAIT_SECONDS = 3600.0  # a call waits at most this long for its run to settle


class ToolError(Exception):
    """A call refused or failed: its message is the HTTP API's for the same case."""


class Links(Protocol):
    """Values as callers see them: each image as a signed, expiring URL."""

    def url(self, image: ImageRef) -> str: ...

    def public(self, value: Any) -> Any: ...


class Server(Services, Protocol):
    """What the MCP tools use of the server (its `ServerState`)."""

    @property
    def compiled(self) -> CompiledFlows: ...

    @property
    def presenter(self) -> Links: ...

    @property
    def background(self) -> set[Any]: ...


@dataclass(frozen=True)
class Image:
    ref: ImageRef
    url: str  # signed, expiring
    data: bytes | None  # None: larger than the cap, sent as a link only


@dataclass(frozen=True)
class Answer:
    run_id: str
    body: Any  # the Respond body as HTTP callers get it (images as signed URLs)
    images: list[Image]
    duration_ms: float | None
    cost_usd: float


class Calls:
    def __init__(self, state: Server, progress_seconds: float = 5.0):
        self.state = state
        self.progress_seconds = progress_seconds  # between notifications while a run runs

    async def flows(self) -> list[ToolFlow]:
        async with self.state.runtime.db.new_session(after_journal=False) as session:
            return await flow_store.mcp_flows(session)

    async def call(self, tool: FlowTool, arguments: dict[str, Any], progress: Progress) -> Answer:
        """Run the tool's flow; `ToolError` when it is refused or the run does not succeed.
        Cancelling the call cancels its run."""
        try:
            outcome = await self._run(tool, dict(arguments), progress)
        except (CallRefused, PlaitError) as exc:
            raise ToolError(str(exc)) from None
        if outcome.status != "succeeded":
            raise ToolError(outcome.detail or f"run {outcome.run_id} is {outcome.status}")
        return await self._answer(outcome)

    async def _run(self, tool: FlowTool, arguments: dict[str, Any], progress: Progress) -> Outcome:
        state, published = self.state, tool.flow.published
        key = arguments.pop(IDEMPOTENCY_ARGUMENT, None) if tool.takes_key else None
        key = checked_idempotency_key(None if key is None else str(key))
        flow = state.compiled.of(published.hash, published.document)
        await count_call(state.limiter, published, tool.node_id)

        async def read_inputs() -> dict[str, Any]:
            return await trigger_inputs(state.runtime, arguments, flow, tool.node_id)

        started = await launch(
            state, published, flow, tool.node_id, key, read_inputs, awaited=False
        )
        # awaited at once: `wait_outcome` takes its waiter before the run can settle
        ticking = asyncio.ensure_future(self._tick(started.run_id, progress))
        try:
            return await wait_outcome(
                state.live, state.runtime.db, started, _MAX_WAIT_SECONDS, shared=state.relay.shared
            )
        except BaseException:
            self._cancel_later(started.run_id)
            raise
        finally:
            ticking.cancel()

    async def _tick(self, run_id: str, progress: Progress) -> None:
        """Progress notifications while the run runs: its id at once, then a beat."""
        await progress(0, f"run {run_id} started")
        for beat in itertools.count(1):
            await asyncio.sleep(self.progress_seconds)
            await progress(beat, f"run {run_id} is running")

    def _cancel_later(self, run_id: str) -> None:
        """Cancel the run from a task of its own: the call's task is being cancelled."""
        cancelling = self.state.launcher.cancel(run_id)
        task = asyncio.get_running_loop().create_task(cancelling)
        self.state.background.add(task)
        task.add_done_callback(self.state.background.discard)

    async def _answer(self, outcome: Outcome) -> Answer:
        presenter, cap = self.state.presenter, self.state.runtime.settings.mcp_max_image_bytes
        images = []
        for ref in images_in(outcome.value):
            data = await self.state.runtime.blobs.get(ref.sha256) if ref.size <= cap else None
            images.append(Image(ref, presenter.url(ref), data))
        body = presenter.public(outcome.value)
        return Answer(outcome.run_id, body, images, outcome.duration_ms, outcome.cost_usd)
