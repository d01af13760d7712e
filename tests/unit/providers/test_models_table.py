"""`plait models`'s table at a fixed console width: an id is never broken or cut."""

from __future__ import annotations

import pytest
from rich.console import Console

from plait.cli.models import _table
from plait.providers import catalog
from plait.providers.gemini_models import KeyModels


@pytest.mark.parametrize("listed", [None, KeyModels(0.0, {"gemini-3-pro-image": "Pro"})])
@pytest.mark.parametrize("width", [80, 100])
def test_no_id_is_broken_across_lines(width: int, listed: KeyModels | None) -> None:
    console = Console(width=width, record=True, color_system=None)
    console.print(_table(catalog.current(), listed))
    text = console.export_text()
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    for model in catalog.current().models:
        assert any(model.id in line for line in lines), (model.id, text)
        if model.successor:
            assert any(f"→ {model.successor}" in line for line in lines), text
    assert "…" not in text
