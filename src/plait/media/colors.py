"""CSS-like hex colours ("#rgb", "#rgba", "#rrggbb", "#rrggbbaa") as RGBA tuples."""

from __future__ import annotations

import re

from plait.errors import MediaError

RGBA = tuple[int, int, int, int]

# Also the JSON-schema `pattern` for colour fields, so the canvas checks the same thing.
COLOR_PATTERN = r"^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
_COLOR = re.compile(COLOR_PATTERN)


def parse_color(text: str) -> RGBA:
    """(red, green, blue, alpha), each 0..255; alpha is 255 when not given."""
    if not isinstance(text, str) or not _COLOR.fullmatch(text.strip()):
        raise MediaError(
            f"{text!r} is not a colour; write it as hex: '#rgb', '#rgba', '#rrggbb' or '#rrggbbaa'"
        )
    digits = text.strip()[1:]
    if len(digits) <= 4:
        digits = "".join(d * 2 for d in digits)
    if len(digits) == 6:
        digits += "ff"
    red, green, blue, alpha = (int(digits[i : i + 2], 16) for i in range(0, 8, 2))
    return red, green, blue, alpha
