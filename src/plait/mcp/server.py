"""The MCP server: flows as tools, on the MCP SDK's low-level `Server`.

The server is the same whatever runs the flows (a `Toolbox`): the MCP-enabled published
flows of a Plait server (`plait.mcp.calls`, at `/mcp`), or the flow files of a folder run
in-process (`plait.mcp.headless`, `plait mcp DIR`). `tools/list` answers the toolbox's
tools (read afresh on each call, so publishing or editing shows at once); `tools/call`
runs one and answers the Respond body as structured content, each image as image content
(or, past the size cap, a link to it), and the run's id, duration and cost. Refusals and
failed runs are tool errors (`isError`) with the HTTP API's messages.
"""

from __future__ import annotations

import base64
import json
from typing import Any, Protocol, TypeVar

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from plait.mcp.about import tool_server
from plait.mcp.calls import Answer, Calls, Progress, ToolError
from plait.mcp.tools import FlowTool, tools
from plait.store.flows import ToolFlow

F = TypeVar("F")


class Toolbox(Protocol[F]):
    """Where the tools come from and how a call runs."""

    async def tools(self) -> dict[str, FlowTool[F]]: ...

    async def call(
        self, tool: FlowTool[F], arguments: dict[str, Any], progress: Progress
    ) -> Answer:
        """The call's answer; `ToolError` when it is refused or its run does not succeed."""
        ...


class Published:
    """The Plait server's MCP-enabled published flows, run as trigger calls."""

    def __init__(self, calls: Calls):
        self.calls = calls

    async def tools(self) -> dict[str, FlowTool[ToolFlow]]:
        return tools(await self.calls.flows())

    async def call(
        self, tool: FlowTool[ToolFlow], arguments: dict[str, Any], progress: Progress
    ) -> Answer:
        return await self.calls.call(tool, arguments, progress)


def flow_server(calls: Calls) -> Server[Any]:
    """The published flows' MCP server."""
    return toolbox_server(Published(calls))


def toolbox_server(toolbox: Toolbox[F]) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        found = await toolbox.tools()
        return types.ListToolsResult(tools=[_listed(tool) for tool in found.values()])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = (await toolbox.tools()).get(params.name)
        if tool is None:
            return _error(f"no tool named '{params.name}': list the tools again")

        async def progress(step: float, message: str) -> None:
            await ctx.session.report_progress(step, None, message)

        try:
            answer = await toolbox.call(tool, params.arguments or {}, progress)
        except ToolError as exc:
            return _error(str(exc))
        return _result(answer)

    return tool_server(list_tools, call_tool)


def _listed(tool: FlowTool[F]) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.input_schema,
        annotations=types.ToolAnnotations(read_only_hint=False, open_world_hint=True),
    )


def _error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


def _result(answer: Answer) -> types.CallToolResult:
    structured = {
        "result": answer.body,
        "run_id": answer.run_id,
        "duration_ms": answer.duration_ms,
        "cost_usd": answer.cost_usd,
    }
    content: list[types.ContentBlock] = [
        types.TextContent(text=json.dumps(structured, ensure_ascii=False))
    ]
    for image in answer.images:
        ref = image.ref
        if image.data is not None:
            data = base64.b64encode(image.data).decode()
            content.append(types.ImageContent(data=data, mime_type=ref.media_type))
        else:
            name = f"{ref.sha256[:16]}.{ref.extension}"  # image.url: signed, or file://
            content.append(
                types.ResourceLink(
                    name=name, uri=image.url, mime_type=ref.media_type, size=ref.size
                )
            )
    return types.CallToolResult(content=content, structured_content=structured)
