"""`plait mcp`: a Plait server's `/mcp` tools over stdio, for local MCP clients.

The stdio server is a thin proxy: `tools/list` and `tools/call` go to the server's
Streamable HTTP endpoint with the user's API token, progress notifications come back,
and a cancelled call is cancelled upstream (the server then cancels its run).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import mcp_types as types
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.server.stdio import stdio_server

from plait.mcp.about import tool_server

_TIMEOUT_SECONDS = 3600.0  # a call may wait this long for its run


@asynccontextmanager
async def upstream(url: str, token: str) -> AsyncIterator[ClientSession]:
    """A client session with the server's `/mcp`, signed in with the API token."""
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx2.Timeout(30, read=_TIMEOUT_SECONDS)
    async with (
        httpx2.AsyncClient(headers=headers, timeout=timeout) as http,
        streamable_http_client(f"{url.rstrip('/')}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def proxy_server(session: ClientSession) -> Server[Any]:
    async def list_tools(
        ctx: ServerRequestContext[Any], params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        return await session.list_tools(params=params)

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        async def forward(progress: float, total: float | None, message: str | None) -> None:
            await ctx.session.report_progress(progress, total, message)

        return await session.call_tool(
            params.name,
            params.arguments,
            read_timeout_seconds=_TIMEOUT_SECONDS,
            progress_callback=forward,
        )

    return tool_server(list_tools, call_tool)


async def serve_stdio(url: str, token: str) -> None:
    """Serve the server's tools on this process's stdin and stdout until the client leaves."""
    async with upstream(url, token) as session, stdio_server() as (read, write):
        server = proxy_server(session)
        await server.run(read, write, server.create_initialization_options())
