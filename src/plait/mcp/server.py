"""The MCP server: published flows as tools, on the MCP SDK's low-level `Server`.

`tools/list` answers the MCP-enabled published flows (read afresh on each call, so
publishing shows at once); `tools/call` runs one (`plait.mcp.calls`) and answers the
Respond body as structured content, each image as image content (or, past the size cap,
a link to its signed URL), and the run's id, duration and cost. Refusals and failed runs
are tool errors (`isError`) with the HTTP API's messages.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from plait.mcp.about import tool_server
from plait.mcp.calls import Answer, Calls, ToolError
from plait.mcp.tools import FlowTool, tools


def flow_server(calls: Calls) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        found = tools(await calls.flows())
        return types.ListToolsResult(tools=[_listed(tool) for tool in found.values()])

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        tool = tools(await calls.flows()).get(params.name)
        if tool is None:
            return _error(f"no tool named '{params.name}': list the tools again")

        async def progress(step: float, message: str) -> None:
            await ctx.session.report_progress(step, None, message)

        try:
            answer = await calls.call(tool, params.arguments or {}, progress)
        except ToolError as exc:
            return _error(str(exc))
        return _result(answer)

    return tool_server(list_tools, call_tool)


def _listed(tool: FlowTool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.flow.name or None,
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
            name = f"{ref.sha256[:16]}.{ref.extension}"
            content.append(
                types.ResourceLink(
                    name=name, uri=image.url, mime_type=ref.media_type, size=ref.size
                )
            )
    return types.CallToolResult(content=content, structured_content=structured)
