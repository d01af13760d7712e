"""How Plait's MCP servers (over HTTP, and the stdio proxy) introduce themselves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import mcp_types as types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from plait import __version__

NAME = "plait"
INSTRUCTIONS = (
    "Each tool runs a published Plait image flow (Gemini image models) with the inputs its "
    "schema lists; image inputs take an http(s) URL, a data: URL or base64. A result holds "
    "the flow's answer, its images, and the run's id, duration and cost in USD."
)

ListTools = Callable[
    [ServerRequestContext[Any], types.PaginatedRequestParams | None],
    Awaitable[types.ListToolsResult],
]
CallTool = Callable[
    [ServerRequestContext[Any], types.CallToolRequestParams], Awaitable[types.CallToolResult]
]


def tool_server(list_tools: ListTools, call_tool: CallTool) -> Server[Any]:
    """A low-level MCP server offering tools only, as Plait."""
    return Server(
        NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
