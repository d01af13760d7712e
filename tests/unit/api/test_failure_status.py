"""A failed run's HTTP status: whose move it is, and Gemini's wait as Retry-After."""

from __future__ import annotations

import pytest

from plait.api.errors import run_failure_status
from plait.errors import Category


@pytest.mark.parametrize(
    ("stored", "status"),
    [("input", 422), ("configuration", 502), ("bad_answer", 502), ("unavailable", 503),
     ("timeout", 504), (None, 500), ("from-a-newer-version", 500)],
)  # fmt: skip
def test_each_category_has_its_status(stored: str | None, status: int) -> None:
    assert run_failure_status(Category.of(stored)) == (status, {})


def test_retry_after_is_whole_seconds_rounded_up_and_only_for_a_wait_worth_it() -> None:
    assert run_failure_status(Category.UNAVAILABLE, 7.2) == (503, {"Retry-After": "8"})
    assert run_failure_status(Category.TIMEOUT, 0.1) == (504, {"Retry-After": "1"})
    assert run_failure_status(Category.CONFIGURATION, 25) == (502, {})  # waiting cannot help
    assert run_failure_status(Category.INPUT, 5) == (422, {})


def test_whose_move_it_is() -> None:
    sides = {c: c.side for c in Category}
    assert sides == {
        Category.INPUT: "input",
        Category.CONFIGURATION: "configuration",
        Category.UNAVAILABLE: "provider",
        Category.TIMEOUT: "provider",
        Category.BAD_ANSWER: "provider",
    }
