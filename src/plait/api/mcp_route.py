"""`/mcp`: the MCP server over Streamable HTTP, for callers with an API token.

Every request must carry `Authorization: Bearer plait_…` for a token holding the `run`
scope (or one that implies it): 401 without one, 403 with a token that may not run flows.
A browser session's cookie is not enough (the MCP endpoint takes no CSRF header). The
session manager is made on the first request that gets through (the MCP SDK is imported
only then: it costs a process about a second of CPU) and runs until the app stops, in a
task `serving` starts in the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from plait.access import scopes
from plait.access.scopes import Scope as TokenScope
from plait.api.auth import identify
from plait.api.state import ServerState
from plait.mcp.calls import Calls

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

PATH = "/mcp"
_BODY_OVERHEAD = 1024 * 1024
UNAUTHORIZED = "send an API token with the 'run' scope as 'Authorization: Bearer plait_…'"


class McpSessions:
    """The app's MCP session manager, made when the first request needs it and run until
    the app stops, in the task `serving` started with the app (in the app's context, as
    every session's task is then, whichever request came first)."""

    def __init__(self, state: ServerState):
        self._state = state
        self._wanted = anyio.Event()
        self._made = anyio.Event()
        self._stopped = anyio.Event()
        self._manager: StreamableHTTPSessionManager | None = None
        self._failure: Exception | None = None

    async def manager(self) -> StreamableHTTPSessionManager:
        if self._manager is not None:
            return self._manager
        self._wanted.set()
        await self._made.wait()
        if self._manager is None:
            raise RuntimeError(
                f"/mcp: the MCP session manager could not start ({self._failure!r}); "
                "check the installation of the `mcp` package and restart the server"
            ) from self._failure
        return self._manager

    def stop(self) -> None:
        self._stopped.set()
        self._wanted.set()  # wakes `run` when no request ever wanted the manager

    async def run(self) -> None:
        await self._wanted.wait()
        if self._stopped.is_set():
            return
        try:
            manager = _session_manager(self._state)
        except Exception as exc:  # /mcp answers 500 with it; the rest of the server goes on
            self._failure = exc
            self._made.set()
            return
        async with manager.run():
            self._manager = manager
            self._made.set()
            await self._stopped.wait()


def _session_manager(state: ServerState) -> StreamableHTTPSessionManager:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    from plait.mcp.server import flow_server

    # base64 makes an image argument a third larger than the upload it stands for
    cap = state.settings.max_upload_bytes * 4 // 3 + _BODY_OVERHEAD
    return StreamableHTTPSessionManager(
        flow_server(Calls(state)), max_request_body_size=cap, stateless=False
    )


@asynccontextmanager
async def serving(state: ServerState) -> AsyncIterator[McpSessions]:
    """The MCP sessions of the app, for as long as the context is open."""
    sessions = McpSessions(state)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(sessions.run)
        try:
            yield sessions
        finally:
            sessions.stop()


class McpEndpoint:
    """Checks the caller's token, then hands the request to the app's session manager."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope["app"]
        state: ServerState = app.state.plait
        caller = await identify(Request(scope, receive), state)
        if caller is None or caller.csrf_token is not None:
            answer = JSONResponse(
                {"detail": UNAUTHORIZED}, 401, {"WWW-Authenticate": 'Bearer realm="plait"'}
            )
            await answer(scope, receive, send)
            return
        if TokenScope.RUN not in scopes.granted(caller.scopes):
            held = scopes.describe(caller.scopes)
            detail = f"this API token's scopes ({held}) do not allow /mcp: it needs 'run'"
            await JSONResponse({"detail": detail}, 403)(scope, receive, send)
            return
        sessions: McpSessions = app.state.mcp
        manager = await sessions.manager()
        await manager.handle_request(scope, receive, send)


def route() -> Route:
    return Route(PATH, McpEndpoint(), methods=["GET", "POST", "DELETE"], name="mcp")
