"""Talking to a running Plait server from the command line, with an API token.

This is the user's own server (PLAIT_URL), not flow data: it does not go through
the guarded client, which exists to keep flows from reaching private addresses.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from plait.errors import PlaitError

if TYPE_CHECKING:  # httpx and the settings load when a command talks to a server
    import httpx


class RemoteError(PlaitError):
    """The server refused a request (`status`: its HTTP status) or could not be reached."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Remote:
    def __init__(self, url: str, token: str):
        import httpx

        self._client = httpx.Client(
            base_url=url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )
        self.url = url.rstrip("/")

    @classmethod
    def from_environment(cls) -> Remote:
        token = os.environ.get("PLAIT_TOKEN")
        if not token:
            raise RemoteError(
                "set PLAIT_TOKEN to an API token (create one in the canvas under Settings, "
                "or POST /api/tokens) and PLAIT_URL to the server (default PLAIT_BASE_URL)"
            )
        from plait.settings import Settings

        return cls(os.environ.get("PLAIT_URL") or Settings().public_origin, token)

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        import httpx

        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise RemoteError(f"cannot reach the Plait server at {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise RemoteError(
                f"{method} {path}: HTTP {response.status_code}: {_detail(response)}",
                response.status_code,
            )
        return None if response.status_code == 204 else response.json()

    def close(self) -> None:
        self._client.close()


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors:
        return "; ".join(_problem(e) for e in errors)
    return str(body.get("detail", body)) if isinstance(body, dict) else str(body)


def _problem(error: dict[str, Any]) -> str:
    where = [f"{k} '{error[k]}'" for k in ("node_id", "port", "field") if error.get(k)]
    return f"{', '.join(where)}: {error['message']}" if where else str(error["message"])
