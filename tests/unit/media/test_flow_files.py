"""Which files a flow may read: under the flow file's folder and folders the user names on
the command line; none on the server. A refusal reads the same whether the file exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait.media.files import FileRefused, allowed_roots
from tests.helpers import png


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    flow_dir, outside, extra = tmp_path / "flow", tmp_path / "outside", tmp_path / "extra"
    for folder in (flow_dir, outside, extra):
        folder.mkdir()
    (flow_dir / "in.png").write_bytes(png(4, 4))
    (outside / "secret.png").write_bytes(png(5, 5))
    (extra / "more.png").write_bytes(png(6, 6))
    (flow_dir / "link.png").symlink_to(outside / "secret.png")
    return {"flow": flow_dir, "outside": outside, "extra": extra}


def test_files_under_the_flow_folder_are_read(layout: dict[str, Path]) -> None:
    files = allowed_roots(layout["flow"])
    assert files.read_image("in.png") == png(4, 4)
    assert files.read_image(str(layout["flow"] / "in.png")) == png(4, 4)


@pytest.mark.parametrize("name", ["../outside/secret.png", "link.png", "{outside}/secret.png"])
def test_files_outside_it_are_refused_links_and_dotdot_included(
    layout: dict[str, Path], name: str
) -> None:
    files = allowed_roots(layout["flow"])
    with pytest.raises(FileRefused, match="is outside the folders this flow may read"):
        files.read_image(name.format(outside=layout["outside"]))


def test_a_folder_the_user_names_is_allowed_too(layout: dict[str, Path]) -> None:
    files = allowed_roots(layout["flow"], [layout["extra"]])
    assert files.read_image(str(layout["extra"] / "more.png")) == png(6, 6)
    with pytest.raises(FileRefused):
        files.read_image(str(layout["outside"] / "secret.png"))


def test_the_refusal_does_not_tell_whether_the_file_exists(layout: dict[str, Path]) -> None:
    def refusal(files_path: str, *, server: bool) -> str:
        files = allowed_roots(None if server else layout["flow"])
        with pytest.raises(FileRefused) as caught:
            files.read_image(files_path)
        return caught.value.message.replace(files_path, "PATH")

    for server in (True, False):
        there = refusal(str(layout["outside"] / "secret.png"), server=server)
        missing = refusal(str(layout["outside"] / "nothing.png"), server=server)
        assert there == missing


def test_on_the_server_no_path_is_read_not_even_relative_ones(layout: dict[str, Path]) -> None:
    files = allowed_roots(None)
    for path in ("in.png", str(layout["flow"] / "in.png"), "/etc/passwd"):
        with pytest.raises(FileRefused, match="upload the image"):
            files.read_image(path)
    assert files.signature("/etc/passwd") == "/etc/passwd:refused"  # not even looked at
