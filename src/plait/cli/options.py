"""Options several commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

AllowDirs = Annotated[
    list[Path] | None,
    typer.Option(
        "--allow-dir",
        help="Another folder the flow may read image files from (besides its own); repeatable",
        file_okay=False,
    ),
]
