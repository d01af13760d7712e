"""`plait mcp`: flows as MCP tools over stdio, for local MCP clients.

Two modes: a proxy of a Plait server's `/mcp` (its MCP-enabled published flows, through
PLAIT_URL and PLAIT_TOKEN), or headless, given a folder: its flow files run in this
process, without a server.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from plait.cli.app import EXIT_USAGE, app, cli_errors, say
from plait.cli.options import AllowDirs

if TYPE_CHECKING:
    from plait.settings import Backend

_NEEDS = (
    "plait mcp: give a folder of flow files to serve them without a server (plait mcp DIR), "
    "or set PLAIT_TOKEN to an API token with the 'run' scope (canvas: Settings → API "
    "tokens) and PLAIT_URL to the Plait server (default PLAIT_BASE_URL) to serve its "
    "published flows"
)
_BOTH = (
    "plait mcp: PLAIT_URL is set and a folder is given: unset PLAIT_URL to serve the "
    "folder's flow files, or give no folder to serve the server's published flows"
)

FolderArgument = Annotated[
    Path | None,
    typer.Argument(help="Serve this folder's flow files (headless, no server)", file_okay=False),
]
FlowsOption = Annotated[
    Path | None,
    typer.Option("--flows", help="The same as FOLDER", metavar="FOLDER", file_okay=False),
]


@app.command("mcp")
def mcp_command(
    folder: FolderArgument = None,
    flows: FlowsOption = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Headless: the offline preview backend (free)")
    ] = False,
    allow_dir: AllowDirs = None,
) -> None:
    """Serve flows as MCP tools on stdin/stdout.

    With FOLDER (or --flows FOLDER), headless: each flow file in it with an
    HTTP Trigger is a tool, run in this process like `plait run` (the
    data folder's database; Gemini with a key, else the preview backend).
    Files that cannot be served are named on stderr; the others are.

    Without FOLDER: a proxy of a Plait server's /mcp (its MCP-enabled
    published flows), through PLAIT_URL and PLAIT_TOKEN.
    """
    given = folder or flows
    url = os.environ.get("PLAIT_URL")
    if given is not None:
        _serve_folder(given, url, preview, tuple(allow_dir or ()))
        return
    token = os.environ.get("PLAIT_TOKEN")
    if not token:
        say(_NEEDS)
        raise SystemExit(EXIT_USAGE)
    import anyio

    from plait.settings import Settings

    with cli_errors():
        from plait.mcp.proxy import serve_stdio  # the MCP SDK loads only for this command

        anyio.run(serve_stdio, url or Settings().public_origin, token)


def _serve_folder(
    folder: Path, url: str | None, preview: bool, allow_dirs: tuple[Path, ...]
) -> None:
    if url:
        say(_BOTH)
        raise SystemExit(EXIT_USAGE)
    if not folder.is_dir():
        say(f"plait mcp: {folder} is not a folder; give the folder holding the flow files")
        raise SystemExit(EXIT_USAGE)
    import anyio

    with cli_errors():
        from plait.mcp.headless import serve_folder

        backend: Backend | None = "preview" if preview else None
        anyio.run(serve_folder, folder.resolve(), say, backend, allow_dirs)
