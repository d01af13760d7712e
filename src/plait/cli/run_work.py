"""The work of `plait run`: the flow run on a runtime of its own, its outputs exported,
its summary on stderr. Imported when the command runs, so `plait --help` and the other
commands do not load the engine, the store and SQLAlchemy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plait.cli.app import say
from plait.cli.inputs import run_inputs
from plait.cli.output import blob_paths, export_images, to_json_text
from plait.engine.runner import RunRequest
from plait.engine.state import RunResult, RunStatus
from plait.flows.loader import load_flow
from plait.flows.validate import compile_flow
from plait.runtime import Runtime, open_runtime

__all__ = ["run", "summarize", "to_json_text"]


async def run(
    path: Path,
    pairs: list[str],
    out: Path | None,
    backend: Any,
    trigger: str | None,
    cache: bool,
    allow_dirs: tuple[Path, ...],
) -> tuple[RunResult, Any]:
    """Run the flow at `path`: its result, and what to print (None unless it succeeded)."""
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


def summarize(result: RunResult) -> bool:
    """Say how the run went on stderr (warnings, the failure, its cost); True if it succeeded."""
    for node in result.nodes.values():
        for warning in node.warnings:
            say(f"plait: warning: node '{node.node_id}': {warning}")
    if result.status == RunStatus.FAILED and result.failed_node is not None:
        node = result.nodes[result.failed_node]
        port = f", port '{node.error_port}'" if node.error_port else ""
        say(f"plait: run failed at node '{node.node_id}' ({node.node_type}{port}): {node.error}")
        return False
    if result.status != RunStatus.SUCCEEDED:
        say(f"plait: run {result.status.value}: {result.error}")
        return False
    usage = result.usage
    backends = sorted({n.backend for n in result.nodes.values() if n.backend})
    made_by = f" · {', '.join(backends)}" if backends else ""
    say(
        f"run {result.run_id[:8]} succeeded in {result.duration_ms / 1000:.2f} s{made_by}"
        f" · {usage.input_tokens + usage.output_tokens} tokens · ${usage.cost_usd:.4f}"
    )
    return True
