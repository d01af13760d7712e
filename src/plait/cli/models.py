"""`plait models`: the image model catalog, and which models this key can use."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.table import Table

from plait.cli.app import EXIT_FAILED, app, cli_errors, emit, say, stdout

if TYPE_CHECKING:  # the catalog, the settings and the providers load when the command runs
    from plait.providers.catalog import Catalog, ModelInfo
    from plait.providers.gemini_models import KeyModels
    from plait.settings import Settings


@app.command()
def models(
    as_json: Annotated[bool, typer.Option("--json", help="Print the catalog as JSON")] = False,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Ask Gemini now which models this key can use (models.list; needs a key), "
            "and check the catalog in force for contradictions",
        ),
    ] = False,
) -> None:
    """List the Gemini image models Plait knows: lifecycle, sizes, ratios, references, prices,
    and (with a key) whether this key can use each."""
    from plait.cli.output import to_json_text
    from plait.providers import catalog, gemini_models
    from plait.providers.catalog_view import catalog_json
    from plait.settings import Settings

    with cli_errors():
        current = catalog.current()
        settings = Settings()
        listed = asyncio.run(_key_models(settings, refresh=check))
    if check:
        for problem in catalog.consistency_problems(current):
            say(f"plait: catalog: {problem}")
    if as_json:
        emit(to_json_text(catalog_json(current, listed)))
        return
    stdout.print(_table(current, listed))
    if listed is not None:
        extra = gemini_models.not_in_catalog(current, listed)
        if extra:
            stdout.print(
                f"Listed for this key but not in the catalog: {', '.join(extra)} "
                "(add them with PLAIT_MODEL_CATALOG; see docs/models.md)"
            )


async def _key_models(settings: Settings, *, refresh: bool) -> KeyModels | None:
    """The model list of the key `plait run` would use: cached under a day, else asked
    for. None without a key, or on the preview backend (which makes no call to Google),
    as `GET /api/models` on a server."""
    if settings.gemini_api_key is None:
        if refresh:
            say("plait: --check needs a key: set GEMINI_API_KEY (or GOOGLE_API_KEY)")
            raise typer.Exit(EXIT_FAILED)
        return None
    if settings.image_backend == "preview":
        if refresh:
            say(
                "plait: --check asks Gemini, but PLAIT_IMAGE_BACKEND=preview makes no call to "
                "Google: unset it (or set it to gemini) to check this key's models"
            )
            raise typer.Exit(EXIT_FAILED)
        return None
    from plait.providers.factory import make_provider

    provider = make_provider(settings, "gemini")
    models = provider.model_list
    assert models is not None  # make_provider gives a Gemini provider its key's list
    try:
        if refresh:
            return await models.get(refresh=True)
        return await models.usable_or_unknown()
    finally:
        await provider.aclose()


def _table(current: Catalog, listed: KeyModels | None) -> Table:
    """One row per model. Ids (the model's, its successor's) are never broken or cut: they
    are what a flow file names; the id column is as wide as the longest one."""
    ids = [m.id for m in current.models] + [f"→ {m.successor}" for m in current.models]
    table = Table(title="Gemini image models", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("model", no_wrap=True, min_width=max(len(i) for i in ids))
    table.add_column("name", overflow="fold")
    table.add_column("lifecycle", overflow="fold", min_width=10)
    table.add_column("$/image", no_wrap=True)  # per size; then ratios and references
    if listed is not None:
        table.add_column("this key", min_width=6)  # "not listed" wraps between words
    for model in current.models:
        row = [_ids(model, current), model.label, _lifecycle(model), _shape(model)]
        if listed is not None:
            row.append("usable" if listed.usable(model) else "not listed")
        table.add_row(*row)
    return table


def _ids(model: ModelInfo, current: Catalog) -> str:
    lines = [model.id]
    if model.id == current.default:
        lines.append("(default)")
    if model.successor:
        lines.append(f"→ {model.successor}")
    return "\n".join(lines)


def _lifecycle(model: ModelInfo) -> str:
    """The lifecycle and its dates, a line each (a narrow column wraps between words)."""
    lines = [model.lifecycle.replace("_", " ")]
    if model.lifecycle == "deprecated":
        lines[0] += f" {model.deprecated}" if model.deprecated else ""
        lines += [f"shutdown {model.shutdown}"] if model.shutdown else []
    elif model.lifecycle == "shut_down" and model.shutdown:
        lines[0] += f" {model.shutdown}"
    return "\n".join(lines)


def _shape(model: ModelInfo) -> str:
    """Each size with its price a line, then the ratios and the reference limit."""
    prices = model.price_per_image["standard"]
    lines = [f"{size} {price:.4g}" for size, price in prices.items()]
    return "\n".join([*lines, f"{len(model.aspect_ratios)} ratios", f"{model.max_references} refs"])
