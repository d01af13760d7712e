"""A route for the hottest path: documented by FastAPI, called without its per-call machinery."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send


class PlainRoute(APIRoute):
    """An APIRoute whose endpoint takes only its path parameters (as strings) and the
    `request`, and returns a Response. OpenAPI documents it from its signature as usual,
    but each call goes straight to the endpoint: no dependency solving or validation of
    parameters, which cost the published trigger more than the rest of its own work.
    With `PlainLane` installed, FastAPI's routing and inner middleware are skipped too."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        declared = set(inspect.signature(endpoint).parameters)
        expected = {*self.param_convertors, "request"}
        if declared != expected:
            raise TypeError(
                f"{endpoint.__name__} must take exactly {sorted(expected)} to be a PlainRoute"
            )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        return self._handle

    async def _handle(self, request: Request) -> Response:
        response: Response = await self.endpoint(request=request, **request.path_params)
        return response

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Call the endpoint and send its response (the scope already matched)."""
        response = await self._handle(Request(scope, receive, send))
        await response(scope, receive, send)


class PlainLane:
    """ASGI middleware: a request a `PlainRoute` matches fully is answered at once, past
    FastAPI's routing, its exit stacks and the routers' matching, which cost the trigger
    route about a quarter of its time. Errors are answered by the app's exception
    handlers, as on FastAPI's path; anything else falls through to the app."""

    def __init__(
        self,
        app: ASGIApp,
        routes: Iterable[BaseRoute],
        handlers: Mapping[Any, Callable[..., Any]],
    ) -> None:
        self.app = app
        self.routes = [r for r in routes if isinstance(r, PlainRoute)]
        # FastAPI hands the 500 / Exception handler to the outermost middleware, as here
        handled = {k: v for k, v in handlers.items() if k not in (500, Exception)}
        self.answer = ExceptionMiddleware(self._answer, handlers=handled)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child, route=route)
                    await self.answer(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    async def _answer(scope: Scope, receive: Receive, send: Send) -> None:
        route: PlainRoute = scope["route"]
        await route.answer(scope, receive, send)


__all__ = ["PlainLane", "PlainRoute"]
