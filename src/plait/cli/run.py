"""`plait run`: run a flow headless and print its result as JSON."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer

from plait.cli.app import EXIT_FAILED, app, cli_errors, emit, say
from plait.cli.inputs import run_inputs
from plait.cli.options import AllowDirs
from plait.cli.output import blob_paths, export_images, to_json_text
from plait.engine.runner import RunRequest
from plait.engine.state import RunResult, RunStatus
from plait.flows.loader import load_flow
from plait.flows.validate import compile_flow
from plait.runtime import Runtime, open_runtime


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
        result, shown = asyncio.run(
            _run(
                flow.resolve(),
                inputs or [],
                out,
                "preview" if preview else None,
                trigger,
                cache,
                tuple(allow_dir or ()),
            )
        )
    _summarize(result)
    if result.status != RunStatus.SUCCEEDED:
        raise typer.Exit(EXIT_FAILED)
    emit(to_json_text(shown))


async def _run(
    path: Path,
    pairs: list[str],
    out: Path | None,
    backend: Any,
    trigger: str | None,
    cache: bool,
    allow_dirs: tuple[Path, ...],
) -> tuple[RunResult, Any]:
    flow = load_flow(path)
    async with open_runtime(backend=backend) as runtime:
        compiled = compile_flow(flow, runtime.registry)
        inputs = await run_inputs(pairs, compiled, trigger, runtime.blobs)
        request = RunRequest(compiled, inputs, "cli", trigger_id=trigger, reuse_cache=cache)
        result = await runtime.runner(path.parent, allow_dirs).run(request)
        return result, await _present(result, out, runtime)


async def _present(result: RunResult, out: Path | None, runtime: Runtime) -> Any:
    if result.status != RunStatus.SUCCEEDED:
        return None
    if out is not None:
        return await export_images(result.result(), out, runtime.blobs)
    return await blob_paths(result.result(), runtime.blobs)


def _summarize(result: RunResult) -> None:
    for node in result.nodes.values():
        for warning in node.warnings:
            say(f"plait: warning: node '{node.node_id}': {warning}")
    if result.status == RunStatus.FAILED and result.failed_node is not None:
        node = result.nodes[result.failed_node]
        port = f", port '{node.error_port}'" if node.error_port else ""
        say(f"plait: run failed at node '{node.node_id}' ({node.node_type}{port}): {node.error}")
        return
    if result.status != RunStatus.SUCCEEDED:
        say(f"plait: run {result.status.value}: {result.error}")
        return
    usage = result.usage
    backends = sorted({n.backend for n in result.nodes.values() if n.backend})
    made_by = f" · {', '.join(backends)}" if backends else ""
    say(
        f"run {result.run_id[:8]} succeeded in {result.duration_ms / 1000:.2f} s{made_by}"
        f" · {usage.input_tokens + usage.output_tokens} tokens · ${usage.cost_usd:.4f}"
    )
