"""Executor overhead per node: a 50-node chain and a 50-wide fan-out.

Both shapes run through the executor and, in the same process and loop, as
direct awaits of the same node functions; the difference per node is the
executor's overhead. Target: under 200 µs per node.

    uv run python benchmarks/engine.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from pydantic import BaseModel

from plait.engine.context import NodeRunContext, Services
from plait.engine.executor import Executor
from plait.engine.state import NodeState, RunStatus
from plait.flows.model import Flow
from plait.flows.ports import Port, PortType
from plait.flows.validate import CompiledFlow, compile_flow
from plait.media.blobs import LocalBlobStore
from plait.nodes.base import NodeContext, NodeType
from plait.nodes.registry import Registry
from plait.providers.preview import PreviewProvider

WIDTH = 50
TARGET_US = 200


class Config(BaseModel):
    suffix: str = "."


class Append(NodeType[Config]):
    """A node whose own work is tiny, so the executor's share is what is measured."""

    type = "append"
    title = category = description = "append"
    config_model = Config

    def inputs(self, config: Config) -> list[Port]:
        return [Port("text", PortType.TEXT, required=False)]

    def outputs(self, config: Config) -> list[Port]:
        return [Port("text", PortType.TEXT)]

    async def run(self, ctx: NodeContext, config: Config, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"text": inputs.get("text", "")[-8:] + config.suffix}


def chain() -> Flow:
    nodes = [{"id": f"n{i}", "type": "append"} for i in range(WIDTH)]
    edges = [{"from": f"n{i}.text", "to": f"n{i + 1}.text"} for i in range(WIDTH - 1)]
    return Flow.model_validate({"nodes": nodes, "edges": edges})


def fan_out() -> Flow:
    leaves = [{"id": f"n{i}", "type": "append"} for i in range(WIDTH)]
    nodes = [{"id": "root", "type": "append"}, *leaves]
    edges = [{"from": "root.text", "to": f"n{i}.text"} for i in range(WIDTH)]
    return Flow.model_validate({"nodes": nodes, "edges": edges})


async def direct_chain(compiled: CompiledFlow, services: Services) -> None:
    text = ""
    for node in compiled.nodes.values():
        ctx = NodeRunContext(services, NodeState(node.id, "append"), {})
        text = (await node.node_type.run(ctx, node.config, {"text": text}))["text"]


async def direct_fan_out(compiled: CompiledFlow, services: Services) -> None:
    nodes = list(compiled.nodes.values())
    root = nodes[0]
    ctx = NodeRunContext(services, NodeState(root.id, "append"), {})
    text = (await root.node_type.run(ctx, root.config, {}))["text"]

    async def one(node: Any) -> None:
        state_ctx = NodeRunContext(services, NodeState(node.id, "append"), {})
        await node.node_type.run(state_ctx, node.config, {"text": text})

    await asyncio.gather(*(one(n) for n in nodes[1:]))


async def through_executor(compiled: CompiledFlow, services: Services) -> None:
    result = await Executor(compiled, services, run_id="bench").run()
    assert result.status == RunStatus.SUCCEEDED


async def timed(fn: Callable[[], Awaitable[None]], rounds: int) -> float:
    """Median seconds per call, after a warm-up."""
    for _ in range(20):
        await fn()
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def measure(name: str, flow: Flow, direct: Any, services: Services, rounds: int) -> float:
    compiled = compile_flow(flow, Registry([Append()]))
    nodes = len(compiled.nodes)
    base = await timed(lambda: direct(compiled, services), rounds)
    engine = await timed(lambda: through_executor(compiled, services), rounds)
    per_node_us = (engine - base) / nodes * 1e6
    print(
        f"{name:<10} {nodes} nodes  direct {base * 1e3:7.3f} ms  executor {engine * 1e3:7.3f} ms  "
        f"ratio {engine / base:5.1f}x  overhead {per_node_us:6.1f} µs/node  "
        f"({'meets' if per_node_us < TARGET_US else 'MISSES'} the {TARGET_US} µs target)"
    )
    return per_node_us


async def main(rounds: int) -> None:
    with TemporaryDirectory() as tmp:
        provider = PreviewProvider()
        services = Services(LocalBlobStore(Path(tmp)), lambda: provider, None)
        await measure("chain", chain(), direct_chain, services, rounds)
        await measure("fan-out", fan_out(), direct_fan_out, services, rounds)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    asyncio.run(main(parser.parse_args().rounds))
