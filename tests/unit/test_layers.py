"""Layers: `api/` is HTTP only (the packages it serves, published flows and MCP tools, never
import it). What a process loads when it starts: tests/unit/test_imports.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import plait

SOURCE = Path(plait.__file__).parent
BELOW_HTTP = ["mcp", "publishing"]


def imported(path: Path, root: Path = SOURCE.parent) -> set[str]:
    """Every module a source file under `root` imports, anywhere in it (`TYPE_CHECKING`
    blocks too), relative imports resolved against its package."""
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _http_imports(path: Path, root: Path = SOURCE.parent) -> list[str]:
    found = imported(path, root)
    return sorted(m for m in found if m == "plait.api" or m.startswith("plait.api."))


@pytest.mark.parametrize("package", BELOW_HTTP)
def test_the_package_does_not_import_the_http_layer(package: str) -> None:
    files = sorted((SOURCE / package).rglob("*.py"))
    assert files
    offending = {str(f.relative_to(SOURCE)): _http_imports(f) for f in files}
    assert {f: found for f, found in offending.items() if found} == {}


def test_the_walk_finds_imports_of_every_form(tmp_path: Path) -> None:
    module = tmp_path / "plait" / "publishing" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import plait.api.state\n"
        "from .. import api\n"
        "if TYPE_CHECKING:\n"
        "    from plait.api.present import Presenter\n"
    )
    assert _http_imports(module, tmp_path) == [
        "plait.api",
        "plait.api.present",
        "plait.api.present.Presenter",
        "plait.api.state",
    ]
