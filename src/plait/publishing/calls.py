"""A call to a published flow, step by step, as its HTTP Trigger and its MCP tool make it:
count it against the rate limit, hold its estimate against the daily budget, read its
inputs, start its run. Refusals are `CallRefused` (`plait.publishing.refusals`)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from plait.engine.live import LiveRuns
from plait.engine.relay import RunRelay
from plait.engine.runner import RunRequest
from plait.engine.state import RunResult
from plait.flows.validate import CompiledFlow
from plait.publishing.budgets import BudgetExceeded, BudgetLedger, Reservation
from plait.publishing.launch import Launcher, Started
from plait.publishing.ratelimit import RateLimiter, Verdict
from plait.publishing.refusals import MAX_IDEMPOTENCY_KEY, BadIdempotencyKey, RateLimited
from plait.runtime import Runtime
from plait.store.flows import PublishedFlow


class Services(Protocol):
    """What a call to a published flow uses of the server."""

    @property
    def runtime(self) -> Runtime: ...

    @property
    def limiter(self) -> RateLimiter: ...

    @property
    def budgets(self) -> BudgetLedger: ...

    @property
    def launcher(self) -> Launcher: ...

    @property
    def live(self) -> LiveRuns: ...

    @property
    def relay(self) -> RunRelay: ...


def checked_idempotency_key(key: str | None) -> str | None:
    """The call's Idempotency-Key, if any; `BadIdempotencyKey` when empty or too long."""
    if key is not None and not 0 < len(key) <= MAX_IDEMPOTENCY_KEY:
        raise BadIdempotencyKey()
    return key


async def count_call(limiter: RateLimiter, published: PublishedFlow, node_id: str) -> Verdict:
    """Count a call against the trigger's rate limit; `RateLimited` when over it."""
    verdict = await limiter.hit(
        "trigger", f"{published.flow_id}:{node_id}", published.rate_limit_per_minute
    )
    if not verdict.allowed:
        raise RateLimited(verdict)
    return verdict


async def reserve(
    services: Services, published: PublishedFlow, flow: CompiledFlow, key: str | None
) -> Reservation | None:
    """Hold this run's estimate against the flow's daily budget; `BudgetExceeded` when it
    would go over, unless the call repeats an Idempotency-Key (it spends nothing)."""
    free = services.runtime.backend == "preview"
    try:
        return await services.budgets.reserve(
            published.flow_id, published.daily_budget_usd, flow, free=free
        )
    except BudgetExceeded:
        if key is None or await services.launcher.existing(published.flow_id, key) is None:
            raise
        return None


async def launch(
    services: Services,
    published: PublishedFlow,
    flow: CompiledFlow,
    node_id: str,
    key: str | None,
    read_inputs: Callable[[], Awaitable[dict[str, Any]]],
    *,
    awaited: bool,
) -> Started:
    """Hold the run's estimate against the daily budget, read and check the call's inputs,
    then start its run (`BudgetExceeded` or the inputs' errors start nothing). A new queued
    run's `Started.waiter` is taken before the run can start: it cannot miss the settling
    (`wait_outcome` takes it over)."""
    reservation = await reserve(services, published, flow, key)
    waiters: list[tuple[str, asyncio.Future[RunResult | None]]] = []

    def watch(run_id: str) -> None:
        waiters.append((run_id, services.live.waiter(run_id)))
        if reservation is not None:
            reservation.settle_when_done(services.live, run_id)

    try:
        started = await services.launcher.start(
            RunRequest(
                flow,
                await read_inputs(),
                source="trigger",
                flow_id=published.flow_id,
                trigger_id=node_id,
                flow_version=published.version,
                idempotency_key=key,
            ),
            awaited=awaited,
            on_queued=watch,
        )
    except BaseException:
        for run_id, waiter in waiters:
            services.live.forget(run_id, waiter)
        if reservation is not None:
            reservation.cancel()
        raise
    if reservation is not None and not started.is_new:
        reservation.cancel()  # a repeated Idempotency-Key starts nothing
    return dataclasses.replace(started, waiter=waiters[0][1]) if waiters else started
