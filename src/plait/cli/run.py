"""`plait run`: run a flow headless and print its result as JSON (its work is
`plait.cli.run_work`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from plait.cli.app import EXIT_FAILED, app, cli_errors, emit
from plait.cli.options import AllowDirs


@app.command()
def run(
    flow: Annotated[Path, typer.Argument(help="The flow file (JSON)")],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="A trigger field: NAME=VALUE or NAME=@file"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write output images into this folder")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Use the offline preview backend (free, no key)")
    ] = False,
    trigger: Annotated[
        str | None, typer.Option("--trigger", help="The trigger node to start from")
    ] = None,
    cache: Annotated[
        bool, typer.Option("--cache/--no-cache", help="Reuse outputs of unchanged nodes")
    ] = False,
    allow_dir: AllowDirs = None,
) -> None:
    """Run FLOW and print its result (the Respond node's body, or every terminal output)."""
    with cli_errors():
        from plait.cli import run_work  # the engine and the store: loaded to run

        result, shown = asyncio.run(
            run_work.run(
                flow.resolve(),
                inputs or [],
                out,
                "preview" if preview else None,
                trigger,
                cache,
                tuple(allow_dir or ()),
            )
        )
    if not run_work.summarize(result):
        raise typer.Exit(EXIT_FAILED)
    emit(run_work.to_json_text(shown))
