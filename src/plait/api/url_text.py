"""API URLs whose path or query holds a NUL character are a 422 before any route runs.

Every id and value in a URL ends up in a database query, and PostgreSQL's text types
refuse NUL characters (a 500 there, a silent miss on SQLite). Bodies are checked field by
field (`plait.textlimits`); a URL is checked here, once, for every route.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from plait.textlimits import holds_nul

_MESSAGE = holds_nul("%00")


class RefuseNulInUrl:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in(scope)
            if where is not None:
                error = {"loc": [where], "msg": f"the URL's {where} {_MESSAGE}", "type": "nul"}
                await JSONResponse({"detail": [error]}, status_code=422)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _nul_in(scope: Scope) -> str | None:
    path: str = scope["path"]
    if not path.startswith("/api/"):  # files and the canvas look nothing up by URL text
        return None
    if "\x00" in path:
        return "path"
    if b"%00" in scope.get("query_string", b""):
        return "query"
    return None
