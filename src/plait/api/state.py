"""What the server's routes share: the runtime, the worker, limits, signers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from plait.access.signin import SignIns
from plait.api.present import Presenter
from plait.batch.service import BatchService
from plait.crypto.signing import LinkSigner
from plait.crypto.vault import Vault
from plait.engine.live import LiveRuns
from plait.engine.queue import JobQueue
from plait.engine.relay import RunRelay
from plait.engine.worker import Worker
from plait.flows.compiled import CompiledFlows
from plait.health import Checks
from plait.publishing.budgets import BudgetLedger
from plait.publishing.launch import Launcher
from plait.publishing.lookup import PublishedFlowLookup
from plait.publishing.outbox import Outbox
from plait.publishing.ratelimit import RateLimiter
from plait.runtime import Runtime
from plait.signals import Signals
from plait.stored_key import StoredKey


@dataclass
class ServerState:
    runtime: Runtime
    queue: JobQueue
    worker: Worker
    live: LiveRuns
    limiter: RateLimiter
    links: LinkSigner
    vault: Vault
    published: PublishedFlowLookup
    batches: BatchService
    budgets: BudgetLedger
    launcher: Launcher
    compiled: CompiledFlows
    outbox: Outbox
    health: Checks  # readiness, by name: `GET /api/health`
    signals: Signals
    relay: RunRelay
    stored_key: StoredKey
    signins: SignIns
    setup_token: str | None = None
    background: set[Any] = field(default_factory=set)

    @property
    def presenter(self) -> Presenter:
        return Presenter(self.links, self.runtime.settings.public_origin)

    @property
    def settings(self) -> Any:
        return self.runtime.settings


async def server_state(request: Request) -> ServerState:
    # async: FastAPI runs a plain `def` dependency in a thread, a hop per request
    state: ServerState = request.app.state.plait
    return state
