"""`plait serve`: the API, the canvas and an embedded worker."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from plait.cli.app import app, cli_errors


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8000,
    access_log: Annotated[bool, typer.Option(help="Log each request")] = True,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Execute runs and batches here (--no-worker: HTTP only; `plait worker` "
            "processes on the same database execute them)",
        ),
    ] = True,
) -> None:
    """Serve the API, the canvas (/) and its docs (/docs), with an embedded worker.
    Trigger secrets are masked in the access log (`plait.logs`, installed by create_app)."""
    import uvicorn

    from plait.api import create_app

    with cli_errors():
        # links printed and handed out point here unless a public origin is configured
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104
        os.environ.setdefault("PLAIT_BASE_URL", f"http://{shown}:{port}")
        typer.echo(f"plait: serving on http://{host}:{port} (API docs at /docs)", err=True)
        uvicorn.run(
            create_app(execute=worker),
            host=host,
            port=port,
            access_log=access_log,
            log_level="info",
            proxy_headers=False,
            http="httptools",  # the C parser: ~75% more requests/s than h11 for a bare route
        )
