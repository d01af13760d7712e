"""A route for the hottest path: documented by FastAPI, called without its per-call machinery."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute


class PlainRoute(APIRoute):
    """An APIRoute whose endpoint takes only its path parameters (as strings) and the
    `request`, and returns a Response. OpenAPI documents it from its signature as usual,
    but each call goes straight to the endpoint: no dependency solving or validation of
    parameters, which cost the published trigger more than the rest of its own work."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        declared = set(inspect.signature(endpoint).parameters)
        expected = {*self.param_convertors, "request"}
        if declared != expected:
            raise TypeError(
                f"{endpoint.__name__} must take exactly {sorted(expected)} to be a PlainRoute"
            )

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint = self.endpoint

        async def handle(request: Request) -> Response:
            response: Response = await endpoint(request=request, **request.path_params)
            return response

        return handle


__all__ = ["PlainRoute"]
