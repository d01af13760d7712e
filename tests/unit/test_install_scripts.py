"""What `./test` and CI install from Debian: only what the tests need, no recommended extras."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "test", ROOT / ".ci" / "run"]


def _installs(script: Path) -> list[list[str]]:
    """The arguments of each `apt-get install` in the script."""
    found = []
    for line in script.read_text().splitlines():
        for match in re.finditer(r"apt-get install([^&;|]*)", line):
            found.append(match.group(1).split())
    return found


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_every_apt_install_leaves_out_recommended_packages(script: Path) -> None:
    installs = _installs(script)
    assert installs, f"{script.name} installs nothing with apt-get"
    for arguments in installs:
        assert "--no-install-recommends" in arguments, (script.name, arguments)


def test_ci_installs_the_browser_the_load_tool_and_the_servers() -> None:
    text = (ROOT / ".ci" / "run").read_text()
    [listed] = re.findall(r"^packages=\(([^)]*)\)", text, flags=re.MULTILINE)
    assert set(listed.split()) >= {"chromium", "wrk", "postgresql", "redis-server"}
