"""`plait models`: the image model catalog as a table."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from plait.cli.app import app, cli_errors, emit, stdout
from plait.cli.output import to_json_text
from plait.providers import catalog


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON")] = False,
) -> None:
    """List the Gemini image models Plait knows, with ratios, sizes and prices."""
    with cli_errors():
        current = catalog.current()
    if as_json:
        emit(to_json_text(current.model_dump(mode="json")))
        return
    table = Table(title="Gemini image models", title_justify="left")
    for column in ("id", "label", "lifecycle", "aspect ratios", "sizes", "refs", "$/image"):
        table.add_column(column, overflow="fold")
    for model in current.models:
        default = " (default)" if model.id == current.default else ""
        prices = model.price_per_image["standard"]
        table.add_row(
            model.id + default,
            model.label,
            model.lifecycle + (f" → {model.successor}" if model.successor else ""),
            " ".join(model.aspect_ratios),
            " ".join(model.sizes) or "—",
            str(model.max_references),
            " ".join(f"{size} {price:.3f}" for size, price in prices.items()),
        )
    stdout.print(table)
