"""`plait validate`: check a flow and list every problem."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from plait.cli.app import EXIT_USAGE, app, cli_errors, emit


@app.command()
def validate(flow: Annotated[Path, typer.Argument(help="The flow file (JSON)")]) -> None:
    """Check FLOW: each problem on its own line naming node and port; exit 2 if any.

    Warnings (a deprecated model) get a line each, starting `warning:`, and leave the exit 0.
    """
    from plait.flows.loader import load_flow
    from plait.flows.validate import validate as validate_flow
    from plait.flows.validate import warnings as flow_warnings
    from plait.nodes.registry import builtin

    with cli_errors():
        document = load_flow(flow)
        problems = validate_flow(document, builtin())
        warned = flow_warnings(document, builtin())
    for problem in problems:
        emit(str(problem))
    for warning in warned:
        emit(f"warning: {warning}")
    if problems:
        raise typer.Exit(EXIT_USAGE)
    emit(f"{flow}: valid ({len(document.nodes)} nodes, {len(document.edges)} edges)")
