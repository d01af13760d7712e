"""JSON from callers, read within limits: nesting depth and the length of each number.

Python's parser recurses once per level (100,000 levels end in RecursionError) and turns
a number of any length into an int (past 4,300 digits a ValueError, and the work grows with
the square of the length). Both are a caller's mistake, never a server error.
"""

from __future__ import annotations

import json
from typing import Any

from plait.errors import PlaitError

MAX_DEPTH = 64  # arrays and objects inside each other
MAX_NUMBER_CHARS = 100  # characters of one number, sign and exponent included


class JsonLimitError(PlaitError):
    """JSON nested too deeply or holding too long a number (a 400)."""


def too_deep() -> JsonLimitError:
    return JsonLimitError(f"the JSON is nested deeper than {MAX_DEPTH} levels")


def _number_too_long(text: str) -> JsonLimitError:
    return JsonLimitError(
        f"the JSON holds a number of {len(text)} characters; at most {MAX_NUMBER_CHARS}"
    )


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _number_too_long(text)
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _number_too_long(text)
    return float(text)


def loads(text: str | bytes) -> Any:
    """`json.loads` within the limits: `JsonLimitError` past them; `json.JSONDecodeError`
    (and `UnicodeDecodeError` for bytes) as usual for what is not JSON."""
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float)
    except RecursionError:
        raise too_deep() from None
    check_depth(value)
    return value


def check_depth(value: Any) -> None:
    """Raise `JsonLimitError` if arrays and objects nest deeper than `MAX_DEPTH`."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if not isinstance(item, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise too_deep()
        children = item.values() if isinstance(item, dict) else item
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
