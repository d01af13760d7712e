"""The garbage collector's settings for long-lived work: the server, batches.

Both are held as context managers, so a batch that ends inside a server leaves the
server's settings as they were.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Python's default is a young collection every 700 allocations: under load it walked the
# objects of every request in flight again and again (~10% of a trigger call's CPU, and
# pauses of 50-90 ms when they added up to full collections).
SERVER_THRESHOLD = (20_000, 10, 10)

_freezers = 0  # holders of `long_lived_frozen` in this process


@contextlib.contextmanager
def long_lived_frozen() -> Iterator[None]:
    """While held, the objects that existed when it was first taken are left out of full
    collections (`gc.freeze`; `gc.unfreeze` when the last holder lets go). They include
    the pydantic validators of google-genai's hundreds of types, slow to traverse: a full
    collection took ~130 ms, stopping every call in flight, and a batch of 100 calls in
    flight triggers several; it takes ~10 ms of what the batch itself holds."""
    global _freezers
    if _freezers == 0:
        gc.freeze()
    _freezers += 1
    try:
        yield
    finally:
        _freezers -= 1
        if _freezers == 0:
            gc.unfreeze()


@contextlib.contextmanager
def thresholds(threshold: tuple[int, int, int]) -> Iterator[None]:
    """Collect with `threshold` (`gc.set_threshold`) while held."""
    previous = gc.get_threshold()
    gc.set_threshold(*threshold)
    try:
        yield
    finally:
        gc.set_threshold(*previous)


__all__ = ["SERVER_THRESHOLD", "long_lived_frozen", "thresholds"]
