"""Record ids: 128 random bits as 32 hex digits, drawn from the OS's generator in bulk.

`os.urandom` lets go of the interpreter lock around its system call. Called once per run
on the event loop's thread, each call handed the lock to the database writer's thread
and waited to get it back; drawing 256 ids at a time waits once.
"""

from __future__ import annotations

import os
import threading

_BATCH = 256
_lock = threading.Lock()
_pool: list[str] = []


def new_id() -> str:
    """A fresh random id, as unguessable as `uuid.uuid4().hex`."""
    with _lock:
        if not _pool:
            digits = os.urandom(16 * _BATCH).hex()
            _pool.extend(digits[i : i + 32] for i in range(0, len(digits), 32))
        return _pool.pop()


__all__ = ["new_id"]
