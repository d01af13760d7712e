"""The work of `plait batch`: rows checked and recorded, the cost confirmed, the rows
driven with a progress bar, a summary and a manifest. Imported when the command runs, so
`plait --help` and the other commands do not load the engine, the store and SQLAlchemy."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from plait.batch.batch_api import JobPool
from plait.batch.driver import BatchJob, Driver, Outcome, Tally, Work, plan
from plait.batch.estimate import Estimate, estimate
from plait.batch.files import check_files
from plait.batch.job_limits import MAX_REQUESTS
from plait.batch.limiter import AimdLimiter
from plait.batch.outputs import write_manifest
from plait.cli.app import EXIT_FAILED, EXIT_USAGE, say
from plait.errors import InputError
from plait.flows.loader import flow_from_document, load_flow
from plait.flows.validate import compile_flow
from plait.providers.catalog import PriceTier
from plait.runtime import Runtime, open_runtime
from plait.store import batches as store
from plait.store.documents import flow_document
from plait.store.tables import Batch

_RESUMABLE = (store.PENDING, store.RUNNING, store.SKIPPED)
stderr = Console(stderr=True, highlight=False)


def run_batch(
    flow: Path | None,
    rows: Path | None,
    options: Options,
    *,
    resume: str | None,
    retry_failed: str | None,
    preview: bool,
) -> int:
    """Start a batch of FLOW × ROWS, or continue one (`resume`, `retry_failed`): its exit code."""
    if resume and retry_failed:
        raise InputError("use --resume or --retry-failed, not both")
    existing = resume or retry_failed
    if options.batch_api and preview:
        raise InputError(_NO_PREVIEW_BATCHES)
    backend = "preview" if preview else None
    if existing is not None:
        mode = (store.FAILED,) if retry_failed else _RESUMABLE
        given = flow.resolve() if flow is not None else None
        return asyncio.run(_continue(existing, mode, options, backend, given))
    if flow is None or rows is None:
        raise InputError("give FLOW and ROWS, or --resume / --retry-failed with a batch id")
    return asyncio.run(_start(flow.resolve(), rows.resolve(), options, backend))


_NO_PREVIEW_BATCHES = (
    "--batch-api sends the Image calls to Gemini's Batch API, and the offline preview "
    "backend has no batch mode: drop --preview (and set GEMINI_API_KEY) to use the Batch "
    "API, or drop --batch-api to preview the batch for free"
)


class Options:
    def __init__(
        self,
        concurrency: int | None,
        out: Path | None,
        yes: bool,
        budget: float | None,
        trigger: str | None,
        batch_api: bool = False,
        poll_every: float = 30.0,
        allow_dirs: tuple[Path, ...] = (),
    ):
        self.given_concurrency = concurrency
        self.out = out.resolve() if out is not None else None
        self.yes = yes
        self.budget = budget
        self.trigger = trigger
        self.batch_api = batch_api
        self.poll_every = poll_every
        self.allow_dirs = allow_dirs

    @property
    def concurrency(self) -> int:
        default = MAX_REQUESTS if self.batch_api else 8
        return self.given_concurrency or default


def _check_mode(runtime: Runtime, options: Options) -> None:
    if options.batch_api and runtime.backend == "preview":
        raise InputError(_NO_PREVIEW_BATCHES)


def _estimate(runtime: Runtime, compiled: Any, rows: int, options: Options) -> Estimate:
    tier: PriceTier = "batch" if options.batch_api else "standard"
    return estimate(compiled, rows, free=runtime.backend == "preview", tier=tier)


async def _start(flow_path: Path, rows_path: Path, options: Options, backend: Any) -> int:
    async with open_runtime(backend=backend) as runtime:
        _check_mode(runtime, options)
        checked = await check_files(runtime, flow_path, rows_path, options.trigger)
        rows = len(checked.rows)
        cost = _estimate(runtime, checked.compiled, rows, options)
        _confirm(cost, options)
        batch_id = await checked.create(runtime, options.out, batch_api=options.batch_api)
        say(f"batch {batch_id}: {rows} rows (if stopped: plait batch --resume {batch_id})")
        job = BatchJob(
            batch_id,
            checked.compiled,
            checked.trigger_id,
            flow_path.parent,
            options.out,
            options.allow_dirs,
        )
        work = await plan(runtime, batch_id, (store.PENDING,))
        return await _drive(runtime, job, work, cost, options, Tally(rows))


async def _continue(
    prefix: str, statuses: tuple[str, ...], options: Options, backend: Any, given: Path | None
) -> int:
    async with open_runtime(backend=backend) as runtime:
        record = await _find(runtime, prefix)
        if options.batch_api and not record.batch_api:
            await runtime.db.journal.write(store.set_batch_api(record.id))
        options.batch_api = options.batch_api or record.batch_api
        _check_mode(runtime, options)
        if given is not None and load_flow(given).content_hash() != record.flow_hash:
            say(f"plait: {given.name} changed since the batch started; it keeps its stored flow")
        async with runtime.db.new_session() as session:
            document = await flow_document(session, record.flow_hash)
            rows = await store.rows_of(session, record.id)
        assert document is not None
        compiled = compile_flow(flow_from_document(document), runtime.registry)
        out = options.out or (Path(record.out_dir) if record.out_dir else None)
        if options.out is not None:
            await runtime.db.journal.write(store.set_out_dir(record.id, str(options.out)))
        work = await plan(runtime, record.id, statuses)
        tally = Tally(record.total_rows)
        for row in rows:
            tally.cost_usd += row.cost_usd
            if row.status not in statuses:
                tally.count(row.status)
        fresh = sum(1 for w in work if w.run_id is None)
        cost = _estimate(runtime, compiled, fresh, options)
        if not work:
            say(f"batch {record.id}: no rows to run")
        else:
            say(f"batch {record.id}: {len(work)} of {record.total_rows} rows to run")
            _confirm(cost, options)
        flow_dir = Path(record.flow_path).parent
        job = BatchJob(record.id, compiled, record.trigger_id, flow_dir, out, options.allow_dirs)
        return await _drive(runtime, job, work, cost, options, tally)


async def _find(runtime: Runtime, prefix: str) -> Batch:
    async with runtime.db.new_session() as session:
        found = await store.find_batches(session, prefix.strip())
    if len(found) != 1:
        problem = "no batch" if not found else "more than one batch"
        raise InputError(f"{problem} has an id starting with '{prefix}'")
    return found[0]


def _confirm(cost: Estimate, options: Options) -> None:
    say(cost.describe())
    if cost.total_usd <= 0 or options.yes:
        return
    if not sys.stdin.isatty():
        raise InputError(
            f"this batch is estimated at ${cost.total_usd:.2f}; pass --yes to start it "
            "(there is no terminal to ask on)"
        )
    if not typer.confirm(f"Start, for about ${cost.total_usd:.2f}?", err=True):
        say("plait: not started")
        raise typer.Exit(EXIT_USAGE)


async def _drive(
    runtime: Runtime,
    job: BatchJob,
    work: list[Work],
    cost: Estimate,
    options: Options,
    tally: Tally,
) -> int:
    started = time.monotonic()
    limiter = AimdLimiter(options.concurrency)
    with _progress(options.batch_api) as bar:
        task = bar.add_task(
            "rows",
            total=tally.total,
            completed=tally.settled,
            failed=0,
            cost=tally.cost_usd,
            jobs="",
        )
        pool = _pool(runtime, job, options, limiter)
        if pool is not None:
            pool.changed = lambda: bar.update(task, jobs=pool.describe())
            if adopted := await pool.load():
                say(f"batch {job.batch_id}: polling the {adopted} Batch API job(s) it submitted")

        def changed(t: Tally) -> None:
            bar.update(task, completed=t.settled, failed=t.failed, cost=t.cost_usd)

        changed(tally)
        driver = Driver(
            runtime,
            job,
            limiter,
            per_row_usd=cost.per_row_usd,
            budget_usd=options.budget,
            tally=tally,
            changed=changed,
            pool=pool,
        )
        try:
            outcome = await driver.run(work)
        finally:
            if pool is not None:
                await pool.aclose()
    return await _report(runtime, job, outcome, options, time.monotonic() - started, limiter)


async def _report(
    runtime: Runtime,
    job: BatchJob,
    outcome: Outcome,
    options: Options,
    seconds: float,
    limiter: AimdLimiter,
) -> int:
    async with runtime.db.new_session() as session:
        rows = await store.rows_of(session, job.batch_id)
    counts = {s: sum(1 for r in rows if r.status == s) for s in (store.SUCCEEDED, store.FAILED)}
    skipped = sum(1 for r in rows if r.status == store.SKIPPED)
    spent = sum(r.cost_usd for r in rows)
    throttled = f" · slowed {limiter.decreases}× by 429s" if limiter.decreases else ""
    say(
        f"batch {job.batch_id}: {counts[store.SUCCEEDED]} succeeded, {counts[store.FAILED]} "
        f"failed, {skipped} skipped of {len(rows)} · ${spent:.4f} · {seconds:.1f} s{throttled}"
    )
    if job.out_dir is not None:
        manifest = await asyncio.to_thread(write_manifest, rows, job.out_dir)
        say(f"manifest: {manifest}")
    if outcome.stopped_by_budget:
        say(
            f"plait: the budget of ${options.budget:.2f} would be passed: rows not started are "
            f"'skipped: budget'; to finish them: plait batch --resume {job.batch_id} "
            "--budget <more>"
        )
        return EXIT_FAILED
    if counts[store.FAILED]:
        failed = [r for r in rows if r.status == store.FAILED]
        first = failed[0]
        say(f"plait: row {first.number} failed: {first.error}")
        say(f"plait: rerun the failed rows: plait batch --retry-failed {job.batch_id}")
        return EXIT_FAILED
    if counts[store.SUCCEEDED] != len(rows):
        return EXIT_FAILED
    return 0


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} rows/s" if speed else "– rows/s")


def _pool(
    runtime: Runtime, job: BatchJob, options: Options, limiter: AimdLimiter
) -> JobPool | None:
    """Batch API mode's provider (None in live mode); the 429s of its live calls (rows of
    a job Google could not report) slow the rows through `limiter`."""
    if not options.batch_api:
        return None
    from plait.providers.gemini import GeminiProvider  # the SDK is slow to import
    from plait.providers.gemini_batch import GeminiBatchApi

    gemini = runtime.provider()
    assert isinstance(gemini, GeminiProvider)  # _check_mode refused the preview backend
    return JobPool(
        GeminiBatchApi(gemini, online_signals=limiter),
        runtime.db,
        job.batch_id,
        poll_seconds=options.poll_every,
        poll_timeout=runtime.settings.batch_poll_timeout,
    )


def _progress(batch_api: bool = False) -> Progress:
    jobs = [TextColumn("{task.fields[jobs]}")] if batch_api else []
    return Progress(
        TextColumn("batch"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("${task.fields[cost]:.2f}"),
        *jobs,
        console=stderr,
        transient=False,
    )
