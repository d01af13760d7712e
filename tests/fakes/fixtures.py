"""Shared pytest fixtures that start fakes (loaded from tests/conftest.py)."""
