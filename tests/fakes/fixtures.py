"""Shared pytest fixtures that start fakes (loaded from tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gemini import FakeGemini


@pytest.fixture
def gemini_fake() -> Iterator[FakeGemini]:
    """A fresh fake Gemini API on a free loopback port, stopped after the test."""
    with FakeGemini() as fake:
        yield fake
