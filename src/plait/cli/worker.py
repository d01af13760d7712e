"""`plait worker`: executes queued runs and batches, re-queues what dead processes left,
and delivers callbacks. No HTTP: `plait serve --no-worker` processes take the requests."""

from __future__ import annotations

import asyncio
import signal
from typing import Annotated

import typer

from plait.cli.app import app, cli_errors, say


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, help="Runs executed at once by this process")
    ] = 32,
) -> None:
    """Execute queued runs and batches from the shared database (scale-out)."""
    with cli_errors():
        asyncio.run(_work(concurrency))


async def _work(concurrency: int) -> None:
    from plait.api.present import Presenter
    from plait.api.routes.trigger import callback_payload
    from plait.batch.service import BatchService
    from plait.crypto.signing import LinkSigner
    from plait.crypto.vault import Vault
    from plait.engine.leases import Leases
    from plait.engine.live import LiveRuns
    from plait.engine.relay import RunRelay
    from plait.engine.worker import Worker
    from plait.execution import Executing
    from plait.publishing.outbox import Outbox
    from plait.runtime import open_runtime
    from plait.scale import make_queue, make_signals
    from plait.settings import Settings
    from plait.stored_key import StoredKey

    config = Settings()
    async with open_runtime(config, concurrency=concurrency) as runtime:
        signals = make_signals(config)
        vault = Vault(config.secret_key)
        live = LiveRuns()
        relay = RunRelay(signals, live, runtime.db.journal.flush)
        stored_key = StoredKey(runtime.db, vault, runtime.provider, signals)
        leases = Leases(runtime.db, seconds=config.lease_seconds)
        queue = make_queue(config, runtime.db, embedded=False, concurrency=concurrency)
        worker = Worker(runtime.db, runtime.registry, runtime.runner, live, leases, relay)
        links = LinkSigner(config.secret_key, config.link_ttl_seconds)
        outbox = Outbox(
            leases, runtime.http, vault, callback_payload(Presenter(links, config.public_origin))
        )
        executing = Executing(worker, queue, BatchService(runtime, leases), outbox, config)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        try:
            async with stored_key.listening():
                await stored_key.load()
                await relay.start(worker.cancel_here)  # cancels and replays from any process
                try:
                    async with executing.running():
                        say(f"plait: worker {leases.owner} executing up to {concurrency} runs")
                        await stop.wait()
                finally:
                    await relay.close()
        finally:
            await signals.close()
        say("plait: worker stopped; its runs and batches were handed back")
