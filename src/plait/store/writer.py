"""The one thread that makes things durable.

Blob files and database commits run there in the order they are handed in, so a run
record that names an image never commits before the image's file is written: a run
may post its blobs' files and go on without waiting for the disk, and a crash at any
point leaves no record pointing at a missing file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")


class Writer:
    def __init__(self) -> None:
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="plait-writer")

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run `fn` after everything handed in before it; does not wait."""
        return self._thread.submit(fn)

    async def run(self, fn: Callable[[], T]) -> T:
        """Run `fn` after everything handed in before it, and wait for its result."""
        return await asyncio.wrap_future(self.submit(fn))

    def close(self) -> None:
        """Finish what was handed in, then stop the thread."""
        self._thread.shutdown(wait=True)
