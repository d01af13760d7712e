"""`plait mcp`: published flows as MCP tools over stdio, for local MCP clients."""

from __future__ import annotations

import os

from plait.cli.app import EXIT_USAGE, app, cli_errors, say

_NEEDS = (
    "plait mcp: set PLAIT_TOKEN to an API token with the 'run' scope (canvas: Settings → API "
    "tokens) and PLAIT_URL to the Plait server (default PLAIT_BASE_URL); running flows from "
    "a folder without a server is not supported yet"
)


@app.command("mcp")
def mcp_command() -> None:
    """Serve the server's MCP-enabled published flows as MCP tools on stdin/stdout (a proxy
    of its /mcp endpoint, through PLAIT_URL and PLAIT_TOKEN)."""
    token = os.environ.get("PLAIT_TOKEN")
    if not token:
        say(_NEEDS)
        raise SystemExit(EXIT_USAGE)
    import anyio

    from plait.settings import Settings

    url = os.environ.get("PLAIT_URL") or Settings().public_origin
    with cli_errors():
        from plait.mcp.proxy import serve_stdio  # the MCP SDK loads only for this command

        anyio.run(serve_stdio, url, token)
