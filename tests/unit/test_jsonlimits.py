from __future__ import annotations

import json

import pytest

from plait.jsonlimits import MAX_DEPTH, MAX_NUMBER_CHARS, JsonLimitError, loads


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_within_the_limits_reads_as_json_does() -> None:
    text = json.dumps({"a": [1, 2.5, -3e10, {"b": None}], "n": 10**50})
    assert loads(text) == json.loads(text)
    assert loads(nested(MAX_DEPTH)) == json.loads(nested(MAX_DEPTH))


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000, 100_000])
def test_deeper_nesting_is_refused_naming_the_limit(depth: int) -> None:
    with pytest.raises(JsonLimitError, match=f"deeper than {MAX_DEPTH} levels"):
        loads(nested(depth))
    with pytest.raises(JsonLimitError):
        loads('{"a": ' * depth + "1" + "}" * depth)


@pytest.mark.parametrize("number", ["1" * 5000, "1" * (MAX_NUMBER_CHARS + 1), "1." + "5" * 200])
def test_too_long_numbers_are_refused_naming_the_limit(number: str) -> None:
    with pytest.raises(JsonLimitError, match=f"at most {MAX_NUMBER_CHARS}"):
        loads(f'{{"x": [{number}]}}')


def test_what_is_not_json_stays_a_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads("{nope")
