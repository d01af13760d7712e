"""The executor: runs a compiled flow on asyncio.

Every node whose inputs are ready starts at once, so independent branches
overlap. Nodes do CPU-bound image work in threads. A failed node fails the
run: nothing new starts, and every node that had not started is skipped
(its downstream nodes name the failed one). Cancelling the run cancels the
nodes that are running.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Mapping
from typing import Any

from pydantic import BaseModel

from plait.engine.cache import NodeCache, cache_key
from plait.engine.context import CURRENT_NODE, NodeRunContext, Services
from plait.engine.events import Event, EventBus, EventKind
from plait.engine.state import NodeState, NodeStatus, RunResult, RunStatus
from plait.engine.values import convert
from plait.errors import InputError, NodeError, PlaitError
from plait.flows.template import Reference, dig, render_config
from plait.flows.validate import CompiledFlow, CompiledNode
from plait.nodes.base import InstantNodeType, NodeType

log = logging.getLogger(__name__)


class Executor:
    def __init__(
        self,
        compiled: CompiledFlow,
        services: Services,
        *,
        run_id: str,
        run_inputs: Mapping[str, Any] | None = None,
        trigger_id: str | None = None,
        events: EventBus | None = None,
        cache: NodeCache | None = None,
        completed: Mapping[str, dict[str, Any]] | None = None,
        gate: Awaitable[None] | None = None,
    ):
        """`gate`: what a node that reaches out of Plait (`NodeType.reaches_out`) waits
        for before it runs, such as the commit of the run's record."""
        self.compiled = compiled
        self.services = services
        self.run_id = run_id
        self.run_inputs = run_inputs or {}
        self.events = events
        self.cache = cache
        self.states = {
            n.id: NodeState(n.id, n.node_type.type, warnings=n.warnings)
            for n in compiled.nodes.values()
        }
        self._entry = entry_trigger(compiled, trigger_id)
        self._completed = completed or {}
        self._gate = gate
        self.resumed = frozenset(self._completed)  # nodes a previous attempt already recorded
        self._waiting = {n.id: len(n.depends_on) for n in compiled.nodes.values()}
        self._tasks: set[asyncio.Task[None]] = set()
        self._instant: deque[str] = deque()  # instant nodes started, waiting their turn
        self._running_instant = False
        self._done: asyncio.Future[None] | None = None
        self._stopped = False
        self._failure: NodeState | None = None
        self._cancelled = False
        self._cancel_requested = False
        self.result: RunResult | None = None

    async def run(self) -> RunResult:
        started = time.perf_counter()
        self._done = asyncio.get_running_loop().create_future()
        self._emit(EventKind.RUN_STARTED)
        self._begin()
        if not self._tasks:
            self._done.set_result(None)
        try:
            await asyncio.shield(self._done)
        except asyncio.CancelledError:
            await self._cancel_running()
            self._finish(started)
            raise
        return self._finish(started)

    @property
    def cancelled(self) -> bool:
        """Whether `cancel()` was called (rather than the task running `run()` cancelled)."""
        return self._cancel_requested

    def cancel(self) -> None:
        """Stop the run: running nodes are cancelled, pending ones never start."""
        self._cancel_requested = True
        self._stop()

    def _stop(self) -> None:
        self._cancelled = True
        self._stopped = True
        for task in list(self._tasks):
            task.cancel()

    # scheduling

    def _begin(self) -> None:
        for node_id, outputs in self._completed.items():
            state = self.states[node_id]
            state.status, state.outputs = NodeStatus.SUCCEEDED, outputs
        for trigger in self.compiled.triggers:
            if trigger.id != self._entry:
                self._skip(trigger.id, "another trigger started this run")
        for node_id in self.compiled.nodes:
            if node_id in self._completed:
                self._release_dependents(node_id)
        for node_id, count in self._waiting.items():
            if count == 0 and self.states[node_id].status == NodeStatus.PENDING:
                self._start(node_id)

    def _start(self, node_id: str) -> None:
        self.states[node_id].status = NodeStatus.RUNNING  # now, so nothing starts it twice
        if self._in_place(self.compiled.nodes[node_id]):
            self._instant.append(node_id)
            self._run_instant()
            return
        task = asyncio.get_running_loop().create_task(self._run_node(node_id))
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _in_place(self, node: CompiledNode) -> bool:
        """An instant node runs in place, unless the cache may answer for it (a lookup waits)."""
        node_type = node.node_type
        return isinstance(node_type, InstantNodeType) and not self._cached(node_type)

    def _cached(self, node_type: NodeType[Any]) -> bool:
        """Whether this run's cache answers for (and keeps) the node type's outputs."""
        return self.cache is not None and not node_type.is_trigger and node_type.cacheable

    def _run_instant(self) -> None:
        """Run the instant nodes started so far, one after another: a worklist rather than
        recursion, so a long chain of them cannot exhaust the stack."""
        if self._running_instant:
            return  # an instant node started this one: the loop below gets to it
        self._running_instant = True
        try:
            while self._instant:
                self._run_in_place(self._instant.popleft())
        finally:
            self._running_instant = False

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks and self._done is not None and not self._done.done():
            self._done.set_result(None)

    def _release_dependents(self, node_id: str) -> None:
        for child in self.compiled.dependents[node_id]:
            self._waiting[child] -= 1
            if self._waiting[child] == 0 and self._may_start(child):
                self._start(child)

    def _may_start(self, node_id: str) -> bool:
        pending = self.states[node_id].status == NodeStatus.PENDING
        return pending and not self._stopped and node_id not in self._completed

    def _skip(self, node_id: str, reason: str) -> None:
        state = self.states[node_id]
        if state.status != NodeStatus.PENDING:
            return
        state.status, state.error = NodeStatus.SKIPPED, reason
        self._emit(EventKind.NODE_SKIPPED, node_id, reason=reason)
        for child in self.compiled.dependents[node_id]:
            self._skip(child, f"upstream node '{node_id}' did not run")

    # one node

    async def _run_node(self, node_id: str) -> None:
        CURRENT_NODE.set(node_id)  # this task's own context: seen by what the node calls
        node = self.compiled.nodes[node_id]
        state = self.states[node_id]
        began = self._node_started(state)
        try:
            await self._execute(node, state)
        except asyncio.CancelledError:
            state.status, state.error = NodeStatus.CANCELLED, "cancelled"
            self._stamp(state, began)
            raise
        except Exception as exc:
            self._node_failed(node, state, began, exc)
            return
        self._node_succeeded(state, began)

    def _run_in_place(self, node_id: str) -> None:
        """An instant node (`InstantNodeType`), run synchronously in the caller's context."""
        node = self.compiled.nodes[node_id]
        node_type = node.node_type
        assert isinstance(node_type, InstantNodeType)
        state = self.states[node_id]
        token = CURRENT_NODE.set(node_id)
        began = self._node_started(state)
        try:
            config, inputs = self._prepare(node, state)
            ctx = NodeRunContext(self.services, state, self._trigger_inputs(node))
            outputs = node_type.run_now(ctx, config, inputs)
            _check_outputs(node, outputs)
            state.outputs = outputs
        except Exception as exc:
            self._node_failed(node, state, began, exc)
            return
        finally:
            CURRENT_NODE.reset(token)
        self._node_succeeded(state, began)

    def _node_started(self, state: NodeState) -> float:
        state.started_at = time.time()
        self._emit(EventKind.NODE_STARTED, state.node_id)
        return time.perf_counter()

    def _node_succeeded(self, state: NodeState, began: float) -> None:
        self._stamp(state, began)
        state.status = NodeStatus.SUCCEEDED
        kind = EventKind.NODE_CACHED if state.cache_hit else EventKind.NODE_FINISHED
        billed = state.usage.cost_usd > 0 or state.backend is not None
        self._emit(kind, state.node_id, duration_ms=state.duration_ms, billed=billed)
        self._release_dependents(state.node_id)

    def _node_failed(
        self, node: CompiledNode, state: NodeState, began: float, exc: Exception
    ) -> None:
        self._stamp(state, began)
        if not isinstance(exc, PlaitError):
            log.exception("node %s (%s) raised", node.id, node.node_type.type, exc_info=exc)
            exc = NodeError(f"internal error: {type(exc).__name__}: {exc}")
        self._fail(state, exc)

    def _prepare(self, node: CompiledNode, state: NodeState) -> tuple[BaseModel, dict[str, Any]]:
        """The node's config with its templates rendered, and its inputs."""
        config = render_config(node.config, self._lookup) if node.references else node.config
        state.inputs = self._inputs(node, config)
        return config, state.inputs

    async def _execute(self, node: CompiledNode, state: NodeState) -> None:
        config, inputs = self._prepare(node, state)
        key = self._cache_key(node, config, inputs)
        if key is not None and self.cache is not None:
            cached = await self.cache.get(key)
            if cached is not None:
                state.outputs, state.cache_hit = cached, True
                if node.node_type.uses_image_provider:
                    state.backend = self.services.image_provider().name
                return
        if self._gate is not None and node.node_type.reaches_out:
            await asyncio.shield(self._gate)  # shared: a cancelled node must not cancel it
        ctx = NodeRunContext(self.services, state, self._trigger_inputs(node))
        outputs = await node.node_type.run(ctx, config, inputs)
        _check_outputs(node, outputs)
        state.outputs = outputs
        if key is not None and self.cache is not None:
            await self.cache.put(key, outputs)

    def _cache_key(
        self, node: CompiledNode, config: BaseModel, inputs: dict[str, Any]
    ) -> str | None:
        node_type = node.node_type
        if not self._cached(node_type):
            return None
        salt = node_type.cache_salt(config, self.services.files)
        if node_type.uses_image_provider:  # a preview image is no answer for Gemini
            salt += f"|backend={self.services.image_provider().name}"
        return cache_key(node_type, config, inputs, salt)

    def _inputs(self, node: CompiledNode, config: BaseModel) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, port in node.inputs.items():
            wire = node.wires.get(name)
            if wire is not None:
                source_type = self.compiled.nodes[wire.node].outputs[wire.port].type
                value = self.states[wire.node].outputs[wire.port]
                values[name] = convert(value, source_type, port.type)
            elif port.config_fallback:
                value = node.node_type.config_value(config, name)
                if value is not None:
                    values[name] = value
        return values

    def _trigger_inputs(self, node: CompiledNode) -> Mapping[str, Any]:
        return self.run_inputs if node.id == self._entry else {}

    def _lookup(self, ref: Reference) -> Any:
        return dig(self.states[ref.node].outputs.get(ref.port), ref.path)

    # outcomes

    def _fail(self, state: NodeState, exc: PlaitError) -> None:
        state.status, state.error, state.error_port = NodeStatus.FAILED, exc.message, exc.port
        state.error_category = exc.category.value if exc.category else None
        state.retry_after = exc.retry_after
        self._emit(EventKind.NODE_FAILED, state.node_id, error=exc.message, port=exc.port)
        if self._failure is None:
            self._failure = state
        self._stopped = True
        for child in self.compiled.dependents[state.node_id]:
            self._skip(child, f"upstream node '{state.node_id}' failed")
        for node_id in self.compiled.nodes:
            self._skip(node_id, f"the run stopped after node '{state.node_id}' failed")

    async def _cancel_running(self) -> None:
        self._stop()
        if self._tasks:
            await asyncio.wait(list(self._tasks))

    def _finish(self, started: float) -> RunResult:
        status = self._status()
        for state in self.states.values():
            if state.status == NodeStatus.PENDING:
                state.status = NodeStatus.CANCELLED if self._cancelled else NodeStatus.SKIPPED
        failure = self._failure
        result = RunResult(
            run_id=self.run_id,
            status=status,
            nodes=self.states,
            terminal=[n for n, children in self.compiled.dependents.items() if not children],
            error=failure.error if failure else ("cancelled" if self._cancelled else None),
            failed_node=failure.node_id if failure else None,
            duration_ms=(time.perf_counter() - started) * 1000,
        )
        self._emit(EventKind.RUN_FINISHED, status=status.value, error=result.error)
        self.result = result
        return result

    def _status(self) -> RunStatus:
        if self._failure is not None:
            return RunStatus.FAILED
        return RunStatus.CANCELLED if self._cancelled else RunStatus.SUCCEEDED

    def _emit(self, kind: EventKind, node_id: str | None = None, **data: Any) -> None:
        if self.events is not None:
            self.events.emit(Event(kind, self.run_id, node_id, data))

    @staticmethod
    def _stamp(state: NodeState, began: float) -> None:
        state.finished_at = time.time()
        state.duration_ms = (time.perf_counter() - began) * 1000


def entry_trigger(compiled: CompiledFlow, trigger_id: str | None) -> str | None:
    """The trigger node that receives the run's inputs."""
    triggers = [t.id for t in compiled.triggers]
    if trigger_id is not None:
        if trigger_id not in triggers:
            raise InputError(
                f"'{trigger_id}' is not a trigger node of this flow", node_id=trigger_id
            )
        return trigger_id
    if len(triggers) > 1:
        raise InputError(f"the flow has several triggers ({', '.join(triggers)}); choose one")
    return triggers[0] if triggers else None


def _check_outputs(node: CompiledNode, outputs: dict[str, Any]) -> None:
    missing = [name for name in node.outputs if name not in outputs]
    if missing:
        raise NodeError(f"internal error: the node produced no value for {', '.join(missing)}")
