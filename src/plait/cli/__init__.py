"""The `plait` command."""

from plait.cli import batch, flows, models, run, serve, validate
from plait.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "batch", "flows", "main", "models", "run", "serve", "validate"]
