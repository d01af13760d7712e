import re

import pytest

from plait.errors import MediaError
from plait.media.colors import COLOR_PATTERN, parse_color


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("#fff", (255, 255, 255, 255)),
        ("#f00", (255, 0, 0, 255)),
        ("#0f08", (0, 255, 0, 136)),
        ("#123456", (0x12, 0x34, 0x56, 255)),
        ("#ABCDEF", (0xAB, 0xCD, 0xEF, 255)),
        ("#000000aa", (0, 0, 0, 0xAA)),
        ("#12345600", (0x12, 0x34, 0x56, 0)),
        ("  #abc  ", (0xAA, 0xBB, 0xCC, 255)),
    ],
)
def test_parses_hex_forms(text: str, expected: tuple[int, int, int, int]) -> None:
    assert parse_color(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "#",
        "fff",
        "red",
        "#ff",
        "#fffff",
        "#fffffff",
        "#fffffffff",
        "#ggg",
        "# fff",
        "#١٢٣",  # Arabic-Indic digits: int() would accept them, a colour must not
        "rgb(0,0,0)",
        "#fff\n#000",
    ],
)
def test_rejects_anything_else(text: str) -> None:
    with pytest.raises(MediaError, match="#rrggbb"):
        parse_color(text)


def test_pattern_agrees_with_parser() -> None:
    pattern = re.compile(COLOR_PATTERN)
    assert pattern.match("#a1b2c3d4")
    assert not pattern.match("#a1b2c")
