import os
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

import plait
from plait.errors import MediaError
from plait.media.fonts import FAMILIES, font_families, load_font


def test_families_are_inter_and_dejavu() -> None:
    assert font_families() == ["inter", "dejavu-sans"]
    assert set(FAMILIES) == {"inter", "dejavu-sans"}


@pytest.mark.parametrize(
    ("family", "bold", "name"),
    [
        ("inter", False, ("Inter", "Regular")),
        ("inter", True, ("Inter", "Bold")),
        ("dejavu-sans", False, ("DejaVu Sans", "Book")),
        ("dejavu-sans", True, ("DejaVu Sans", "Bold")),
    ],
)
def test_loads_each_face_at_the_size_asked(family: str, bold: bool, name: tuple[str, str]) -> None:
    font = load_font(family, bold, 37)
    assert isinstance(font, ImageFont.FreeTypeFont)
    assert font.getname() == name
    assert font.size == 37


def test_every_font_file_ships_in_the_package_with_its_licence() -> None:
    folder = resources.files("plait.media") / "fonts"
    for family in FAMILIES.values():
        for filename in (family.regular, family.bold):
            assert (folder / filename).read_bytes()[:4] in (b"OTTO", b"\x00\x01\x00\x00")
    assert (folder / "Inter-LICENSE.txt").is_file()
    assert (folder / "DejaVu-LICENSE.txt").is_file()


def test_loaded_fonts_are_cached() -> None:
    assert load_font("inter", False, 20) is load_font("inter", False, 20)
    assert load_font("inter", False, 20) is not load_font("inter", False, 21)


def test_bold_is_wider_than_regular() -> None:
    text = "Headline copy"
    assert load_font("inter", True, 40).getlength(text) > load_font("inter", False, 40).getlength(
        text
    )


def test_a_bigger_size_draws_taller_glyphs() -> None:
    def ink_height(size: int) -> int:
        img = Image.new("L", (300, 300), 0)
        ImageDraw.Draw(img).text(
            (10, 10), "H", fill=255, font=load_font("dejavu-sans", False, size)
        )
        bbox = img.getbbox()
        assert bbox is not None
        return bbox[3] - bbox[1]

    assert ink_height(80) > 1.8 * ink_height(40)


def test_unknown_family_names_the_known_ones() -> None:
    with pytest.raises(MediaError, match=r"unknown font family 'comic'.*inter, dejavu-sans"):
        load_font("comic", False, 20)


@pytest.mark.parametrize("size", [0, -3, 100_000])
def test_rejects_a_size_out_of_range(size: int) -> None:
    with pytest.raises(MediaError, match="font size"):
        load_font("inter", False, size)


def test_fonts_load_from_a_zipped_package(tmp_path: Path) -> None:
    """Fonts are package resources, not paths next to the source tree."""
    package = Path(plait.__file__).parent
    archive = tmp_path / "plait.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for file in package.rglob("*"):
            if file.is_file() and "__pycache__" not in file.parts:
                zipped.write(file, Path("plait") / file.relative_to(package))
    script = (
        "import plait.media.fonts as f; "
        "assert '.zip' in f.__file__, f.__file__; "
        "print(f.load_font('dejavu-sans', True, 30).getname())"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(archive)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "('DejaVu Sans', 'Bold')"
