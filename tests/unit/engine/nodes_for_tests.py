"""Node types that exist only for engine tests: gates, failures, counters."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from plait.errors import NodeError
from plait.flows.ports import Port, PortType
from plait.flows.template import Template
from plait.nodes.base import NodeContext, NodeType
from plait.nodes.registry import Registry, builtin


class GateConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: Template = Template("")


class Gate(NodeType[GateConfig]):
    """Waits at a shared asyncio.Barrier: only passes when `parties` gates run at once."""

    type = "gate"
    title = category = description = "gate"
    config_model = GateConfig
    barrier: ClassVar[asyncio.Barrier | None] = None
    calls: ClassVar[list[str]] = []
    entered: ClassVar[asyncio.Event | None] = None  # set when a gate runs

    def inputs(self, config: GateConfig) -> list[Port]:
        return [Port("in", PortType.TEXT, required=False)]

    def outputs(self, config: GateConfig) -> list[Port]:
        return [Port("out", PortType.TEXT)]

    async def run(
        self, ctx: NodeContext, config: GateConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        Gate.calls.append(ctx.node_id)
        if Gate.entered is not None:
            Gate.entered.set()
        if Gate.barrier is not None:
            await Gate.barrier.wait()
        return {"out": f"{config.label}{inputs.get('in', '')}"}


class FailConfig(BaseModel):
    message: str = "boom"
    internal: bool = False


class Fail(NodeType[FailConfig]):
    type = "fail"
    title = category = description = "fail"
    config_model = FailConfig

    def inputs(self, config: FailConfig) -> list[Port]:
        return [Port("in", PortType.TEXT, required=False)]

    def outputs(self, config: FailConfig) -> list[Port]:
        return [Port("out", PortType.TEXT)]

    async def run(
        self, ctx: NodeContext, config: FailConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        if config.internal:
            raise ZeroDivisionError(config.message)
        raise NodeError(config.message, port="out")


class Empty(BaseModel):
    pass


class Hang(NodeType[Empty]):
    """Never finishes until cancelled; `started` is set when it begins."""

    type = "hang"
    title = category = description = "hang"
    config_model = Empty
    started: ClassVar[asyncio.Event | None] = None

    def outputs(self, config: Empty) -> list[Port]:
        return [Port("out", PortType.TEXT)]

    async def run(self, ctx: NodeContext, config: Empty, inputs: dict[str, Any]) -> dict[str, Any]:
        if Hang.started is not None:
            Hang.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Reach(NodeType[Empty]):
    """Stands for a node that calls a service outside Plait; `calls` lists its runs."""

    type = "reach"
    title = category = description = "reach"
    config_model = Empty
    reaches_out = True
    calls: ClassVar[list[str]] = []
    hold: ClassVar[asyncio.Event | None] = None  # set: each call waits for it
    entered: ClassVar[asyncio.Event | None] = None  # set when a call starts

    def inputs(self, config: Empty) -> list[Port]:
        return [Port("in", PortType.TEXT, required=False)]

    def outputs(self, config: Empty) -> list[Port]:
        return [Port("out", PortType.TEXT)]

    async def run(self, ctx: NodeContext, config: Empty, inputs: dict[str, Any]) -> dict[str, Any]:
        Reach.calls.append(ctx.node_id)
        if Reach.entered is not None:
            Reach.entered.set()
        if Reach.hold is not None:
            await Reach.hold.wait()
        return {"out": "reached"}


def registry() -> Registry:
    return Registry([*builtin(), Gate(), Fail(), Hang(), Reach()])
