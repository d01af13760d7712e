"""The `plait` command."""

from plait.cli import flows, models, run, serve, validate
from plait.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "flows", "main", "models", "run", "serve", "validate"]
