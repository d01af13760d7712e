"""`plait batch`: one flow × many input rows, durable, bounded, with a progress bar (its
work is `plait.cli.batch_work`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plait.batch.job_limits import MAX_REQUESTS
from plait.cli.app import app, cli_errors
from plait.cli.options import AllowDirs


@app.command()
def batch(
    flow: Annotated[Path | None, typer.Argument(help="The flow file (JSON)")] = None,
    rows: Annotated[
        Path | None, typer.Argument(help="The rows: CSV or JSON Lines; columns are trigger fields")
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            min=1,
            help=(
                "Gemini calls in flight at most "
                f"[default: 8; with --batch-api: rows in flight, default {MAX_REQUESTS}]"
            ),
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write images and manifest.csv here")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Start without asking")] = False,
    budget: Annotated[
        float | None,
        typer.Option("--budget", min=0.0, help="Stop starting rows past this cost (USD)"),
    ] = None,
    retry_failed: Annotated[
        str | None, typer.Option("--retry-failed", metavar="BATCH_ID", help="Rerun failed rows")
    ] = None,
    resume: Annotated[
        str | None, typer.Option("--resume", metavar="BATCH_ID", help="Finish a stopped batch")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Use the offline preview backend (free, no key)")
    ] = False,
    trigger: Annotated[
        str | None, typer.Option("--trigger", help="The trigger node the rows feed")
    ] = None,
    batch_api: Annotated[
        bool,
        typer.Option(
            "--batch-api",
            help="Send the Image calls to Gemini's Batch API: half price, results within 24 h",
        ),
    ] = False,
    poll_every: Annotated[
        float,
        typer.Option(
            "--poll-every", min=0.01, metavar="SECONDS", help="How often to poll Batch API jobs"
        ),
    ] = 30.0,
    allow_dir: AllowDirs = None,
) -> None:
    """Run FLOW once per row of ROWS, with a progress bar, a summary and a manifest."""
    with cli_errors():
        from plait.cli.batch_work import Options, run_batch  # the engine: loaded to run

        allow_dirs = tuple(allow_dir or ())
        options = Options(concurrency, out, yes, budget, trigger, batch_api, poll_every, allow_dirs)
        code = run_batch(
            flow, rows, options, resume=resume, retry_failed=retry_failed, preview=preview
        )
    if code:
        raise typer.Exit(code)
