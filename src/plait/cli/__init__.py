"""The `plait` command."""

from plait.cli import batch, flows, mcp_stdio, models, run, serve, validate, worker
from plait.cli.app import app


def main() -> None:
    app()


__all__ = [
    "app",
    "batch",
    "flows",
    "main",
    "mcp_stdio",
    "models",
    "run",
    "serve",
    "validate",
    "worker",
]
