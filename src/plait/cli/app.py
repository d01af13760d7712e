"""The `plait` Typer application and the error handling every command shares."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from plait.errors import FlowFileError, FlowInvalid, InputError, PlaitError

if TYPE_CHECKING:
    from pydantic import ValidationError

app = typer.Typer(
    name="plait",
    help="Plait: visual image flows on Gemini image models, run from the command line.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stdout = Console(highlight=False)

EXIT_FAILED = 1
EXIT_USAGE = 2


def say(message: str) -> None:
    """One plain, unwrapped line on stderr."""
    print(message, file=sys.stderr, flush=True)


def emit(text: str) -> None:
    """Plain output on stdout (JSON, problem lists): never wrapped or styled."""
    print(text, flush=True)


@contextmanager
def cli_errors() -> Iterator[None]:
    """Turn Plait's errors into one clear line each and the documented exit codes."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        yield
    except FlowInvalid as exc:
        for problem in exc.problems:
            say(f"plait: {problem}")
        raise typer.Exit(EXIT_USAGE) from None
    except (FlowFileError, InputError) as exc:
        say(f"plait: {exc}")
        raise typer.Exit(EXIT_USAGE) from None
    except PlaitError as exc:
        say(f"plait: {exc}")
        raise typer.Exit(EXIT_FAILED) from None
    except KeyboardInterrupt:
        say("plait: interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:
        bad_settings = _bad_settings(exc)
        if bad_settings is not None:
            for bad_setting in settings_problems(bad_settings):
                say(f"plait: {bad_setting}")
            raise typer.Exit(EXIT_USAGE) from None
        if os.environ.get("PLAIT_DEBUG"):
            raise
        say(f"plait: internal error: {type(exc).__name__}: {exc} (set PLAIT_DEBUG=1 for details)")
        raise typer.Exit(EXIT_FAILED) from None


def _bad_settings(exc: Exception) -> ValidationError | None:
    """The error, if settings from the environment failed validation (pydantic loads only
    on failure, keeping `plait --help` quick)."""
    from pydantic import ValidationError

    return exc if isinstance(exc, ValidationError) and exc.title == "Settings" else None


def settings_problems(exc: ValidationError) -> list[str]:
    """Each bad setting as `VARIABLE: what is wrong` (never its value: it may hold a password)."""
    problems = []
    for error in exc.errors(include_url=False, include_input=False):
        name = ".".join(str(part) for part in error["loc"])
        cause = (error.get("ctx") or {}).get("error")
        problems.append(f"{name}: {cause if isinstance(cause, ValueError) else error['msg']}")
    return problems
