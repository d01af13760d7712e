"""Writes the app's OpenAPI document without starting a server, for the canvas's generated
types (`web/src/api/schema.d.ts`, docs/canvas.md): `python -m plait.api.openapi_dump [FILE]`
(default `web/src/api/openapi.json`; `-` writes to standard output)."""

import json
import sys
from pathlib import Path
from typing import Any

from plait.api.app import create_app
from plait.settings import Settings

DEFAULT = Path("web/src/api/openapi.json")


def document() -> dict[str, Any]:
    """The OpenAPI document `/openapi.json` serves (building the app opens nothing)."""
    return create_app(Settings(_env_file=None)).openapi()


def text() -> str:
    """The document as committed: indented, keys in the app's order, a final newline."""
    return json.dumps(document(), indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    target = argv[0] if argv else str(DEFAULT)
    if target == "-":
        sys.stdout.write(text())
    else:
        Path(target).write_text(text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
