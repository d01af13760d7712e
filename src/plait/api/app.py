"""The FastAPI application: the runtime and the embedded worker for its lifetime, the routers,
and the canvas at `/`."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.telemetry import TelemetryConfig

from plait import __version__
from plait.access.first_admin import check_admin_settings, first_admin
from plait.access.signin import SignIns
from plait.api import docs_page, errors, mcp_route
from plait.api.auth import require_user
from plait.api.present import Presenter
from plait.api.routes import (
    auth,
    batches,
    catalog,
    files,
    flows,
    publish,
    runs,
    settings,
    tokens,
    trigger,
    uploads,
)
from plait.api.routes.trigger import callback_payload
from plait.api.spa import SinglePageApp
from plait.api.state import ServerState
from plait.api.url_text import RefuseNulInUrl
from plait.batch.service import BatchService
from plait.collector import SERVER_THRESHOLD, long_lived_frozen, thresholds
from plait.crypto.signing import LinkSigner
from plait.crypto.vault import Vault
from plait.engine.leases import Leases
from plait.engine.live import LiveRuns
from plait.engine.relay import RunRelay
from plait.engine.worker import Worker
from plait.execution import Executing
from plait.logs import redact_secrets
from plait.publishing.launch import InProcessLauncher
from plait.publishing.lookup import PublishedFlows
from plait.publishing.outbox import Outbox
from plait.publishing.shared_budgets import budget_ledger
from plait.runtime import open_runtime
from plait.scale import health_checks, make_limiter, make_queue, make_signals
from plait.settings import Settings
from plait.stored_key import StoredKey
from plait.windows import LocalWhenAway

_MULTIPART_OVERHEAD = 1024 * 1024
_PRIVATE = (tokens, flows, publish, runs, uploads, settings, batches)


def create_app(
    config: Settings | None = None, *, execute: bool = True, commit_apart: bool = True
) -> FastAPI:
    """`execute`: the server runs its runs and batches itself (the embedded worker);
    False (`plait serve --no-worker`): it records and enqueues them for `plait worker`.
    `commit_apart`: the server commits its SQLite journal in a child process of its own
    (`plait.store.commit_process`: no interpreter lock shared with the requests); False
    commits in the writer thread, for tests and embedders that start many servers in one
    process and would pay a fresh interpreter for each (no effect on a database server)."""
    config = config or Settings()
    check_admin_settings(config)
    config.secret_key  # noqa: B018  # set where it must be, or a clear error now
    redact_secrets()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(config, commit_apart=commit_apart) as runtime:
            signals = make_signals(config)
            live = LiveRuns()
            relay = RunRelay(signals, live, runtime.db.journal.flush)
            leases = Leases(runtime.db, seconds=config.lease_seconds)
            queue = make_queue(config, runtime.db, embedded=execute)
            worker = Worker(runtime.db, runtime.registry, runtime.runner, live, leases, relay)
            links = LinkSigner(config.secret_key, config.link_ttl_seconds)
            vault = Vault(config.secret_key)
            presenter = Presenter(links, config.public_origin)
            published = PublishedFlows(runtime.db, signals=signals)
            stored_key = StoredKey(runtime.db, vault, runtime.provider, signals)
            limiter = make_limiter(config)
            state = ServerState(
                runtime=runtime,
                queue=queue,
                worker=worker,
                live=live,
                limiter=limiter,
                signins=SignIns(windows=LocalWhenAway(limiter.windows)),
                links=links,
                vault=vault,
                published=published,
                batches=BatchService(runtime, leases, execute=execute),
                budgets=budget_ledger(runtime.db),
                launcher=InProcessLauncher(
                    runtime.db, runtime.runner, worker, queue, relay, execute_here=execute
                ),
                compiled=worker.compiled,
                outbox=Outbox(leases, runtime.http, vault, callback_payload(presenter)),
                health=health_checks(config, runtime.db, runtime.blobs),
                signals=signals,
                relay=relay,
                stored_key=stored_key,
            )
            async with _listening(state):
                await stored_key.load()
                state.setup_token = await first_admin(runtime.db, config)
                app.state.plait = state
                executing = Executing(worker, queue, state.batches, state.outbox, config)
                # what start-up made lives as long as the server: out of full collections
                with long_lived_frozen(), thresholds(SERVER_THRESHOLD):
                    work = executing.running() if execute else contextlib.nullcontext()
                    async with work, mcp_route.serving(state) as app.state.mcp:
                        yield

    app = FastAPI(
        title="Plait",
        version=__version__,
        description="Visual image flows on Gemini image models. See docs/api.md.",
        lifespan=lifespan,
        telemetry=_telemetry(),
        docs_url=None,  # served from the package's assets (docs_page), not a CDN
        redoc_url=None,
    )
    errors.install(app)
    app.add_middleware(RefuseNulInUrl)
    # The trigger reads its body capped field by field (`plait.api.bodies`); every other
    # route gets this backstop, which costs the hottest path several percent per call.
    capped = config.max_upload_bytes + _MULTIPART_OVERHEAD
    app.include_router(trigger.router)  # first: the path matched most often
    app.include_router(catalog.public, max_body_size=capped)
    app.include_router(auth.router, max_body_size=capped)
    app.include_router(files.router, max_body_size=capped)
    signed_in = [Depends(require_user)]
    app.include_router(catalog.router, dependencies=signed_in, max_body_size=capped)
    for module in _PRIVATE:
        app.include_router(module.router, dependencies=signed_in, max_body_size=capped)
    docs_page.install(app)
    app.router.routes.append(mcp_route.route())  # checks its API token itself
    app.mount("/", SinglePageApp(), name="canvas")
    return app


@asynccontextmanager
async def _listening(state: ServerState) -> AsyncIterator[None]:
    """What other processes say (runs settled or to cancel, publications and the stored
    key changed) is heard while the server runs; the signals close after it."""
    try:
        async with state.published.listening(), state.stored_key.listening():
            await state.relay.start(state.worker.cancel_here)
            try:
                yield
            finally:
                await state.relay.close()
    finally:
        await state.signals.close()


def _telemetry() -> TelemetryConfig:
    """FastAPI's OpenTelemetry only when the environment configures it: looking for a
    provider on every request costs the trigger route several percent of its throughput."""
    wanted = any(name.startswith("OTEL_") for name in os.environ)
    return {"tracing": wanted, "metrics": wanted, "logs": wanted}
