"""Signals between processes: publish/subscribe by channel (see `base`)."""

from __future__ import annotations

from plait.signals.base import Callback, Message, Signals, SignalsUnavailable, Subscription
from plait.signals.memory import InMemorySignals


def open_signals(redis_url: str | None) -> Signals:
    """Redis pub/sub when a Redis URL is set, else this process's own (the default)."""
    if redis_url is None:
        return InMemorySignals()
    from plait.signals.redis import RedisSignals  # only scale-out set-ups load redis-py

    return RedisSignals(redis_url)


__all__ = [
    "Callback",
    "InMemorySignals",
    "Message",
    "Signals",
    "SignalsUnavailable",
    "Subscription",
    "open_signals",
]
