"""Signals between processes: publish/subscribe by channel (see `base`)."""

from __future__ import annotations

from plait.signals.base import Callback, Message, Signals, SignalsUnavailable, Subscription
from plait.signals.memory import InMemorySignals

__all__ = [
    "Callback",
    "InMemorySignals",
    "Message",
    "Signals",
    "SignalsUnavailable",
    "Subscription",
]
