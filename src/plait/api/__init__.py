"""The HTTP server: FastAPI app, routers, auth, rate limits and signed links."""

from plait.api.app import create_app

__all__ = ["create_app"]
