"""Serving the built canvas: static files, and index.html for the app's own routes."""

from __future__ import annotations

from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC = Path(__file__).resolve().parent.parent / "web" / "static"
_NOT_APP = ("api", "files", "docs", "redoc", "openapi.json")

_MISSING = """<!doctype html><meta charset="utf-8"><title>Plait</title>
<p>The canvas is not built. Run <code>scripts/check-web.sh</code> (needs Node), or use the
API: <a href="/docs">/docs</a>.</p>"""


class SinglePageApp(StaticFiles):
    """Files under `static/`; any other path that is not the API gets index.html."""

    def __init__(self, directory: Path = STATIC):
        super().__init__(directory=directory, html=True, check_dir=False)
        self.built = (directory / "index.html").is_file()

    async def check_config(self) -> None:
        if self.built:  # without a build there is nothing to check: get_response explains
            await super().check_config()

    async def get_response(self, path: str, scope: Scope) -> Response:
        if _not_app(path, scope):
            raise HTTPException(404)
        if not self.built:
            return HTMLResponse(_MISSING)
        try:
            response = await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404:
                raise
            response = await super().get_response("index.html", scope)
        if response.status_code == 404:
            response = await super().get_response("index.html", scope)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def _not_app(path: str, scope: Scope) -> bool:
    """Paths of the API and its documents: a 404 here, never the canvas. Judged on the path
    as sent too, before `..` is resolved: `/files/../x` would otherwise be `x`."""
    sent = str(scope["path"]).removeprefix(scope.get("root_path", ""))
    return any(p.strip("/").split("/", 1)[0] in _NOT_APP for p in (path, sent))
