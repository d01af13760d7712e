"""The README and docs/ stand alone: every link stays in the repository, and the README
opens with the two commands, a canvas screenshot, `--port`, and a tour whose runs each
write to their own folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)[^)]*\)")
FENCE = re.compile(r"```(?:sh|bash)?\n(.*?)```", re.S)


def links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)  # code is not a link
    return LINK.findall(text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_leads_to_a_file_in_the_repository(page: Path) -> None:
    for target in links(page):
        path = target.split("#", 1)[0]
        assert "://" not in target, (page.name, target)
        assert not target.startswith("//"), (page.name, target)
        if not path:
            continue  # an anchor on the same page
        found = (page.parent / path).resolve()
        assert found.is_relative_to(ROOT), (page.name, target)
        assert found.exists(), (page.name, target)


def test_the_readme_opens_with_the_two_commands_and_a_canvas_screenshot() -> None:
    readme = (ROOT / "README.md").read_text()
    first, second = [block.strip() for block in FENCE.findall(readme)[:2]]
    assert first.startswith("./plait serve")
    assert "--port" in first
    assert second == "./test"
    assert "--no-install-recommends" in readme  # says what ./test installs
    image = re.search(r"!\[[^\]]+\]\((docs/screenshots/[^)]+\.png)\)", readme)
    assert image is not None
    assert readme.index(image.group(0)) < readme.index("## A short tour")
    assert (ROOT / image.group(1)).is_file()


def test_each_run_of_the_tour_writes_to_its_own_folder() -> None:
    readme = (ROOT / "README.md").read_text()
    tour = FENCE.findall(readme.split("## A short tour", 1)[1])[0]
    folders = re.findall(r"--out (\S+)", tour)
    runs = [line for line in tour.splitlines() if re.search(r"plait (run|batch) ", line)]
    assert len(folders) == len(runs) >= 3
    assert len(set(folders)) == len(folders), folders
