"""The `plait` command."""

from plait.cli import models, run, serve, validate
from plait.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main", "models", "run", "serve", "validate"]
