"""The one bounded pool for CPU-bound image work, and the memory its pixels may take.

Decoding, re-encoding, resizing and overlays run on `WORKERS` threads (one per core, at
least two), never more, however many requests arrive: the rest queue. Each piece of work
(`run`) reserves the memory of every image it decodes before decoding it, from one budget
for the whole process (`PLAIT_IMAGE_MEMORY_MB`, 512 MB by default): when the budget is in
use the work waits for it, and work whose images together need more than the budget is
refused (`ImageTooCostly`, a 422 naming the limit) before the image that would pass it is
decoded. Only a piece of work's first image waits; a later one is granted at once (it must
not wait for work that may be waiting on it), so several pieces may pass the budget
together for a moment, each by less than one budget. A decode that only
needs a smaller picture (a resize) asks JPEG's decoder for a reduced one (`draft`) and
reserves that.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, TypeVar

from plait.errors import Category, MediaError

T = TypeVar("T")
MB = 1024 * 1024
WORKERS = max(2, os.cpu_count() or 2)
DEFAULT_MEMORY_MB = 512
# Pillow keeps RGB and RGBA at 4 bytes a pixel, and turning an image upright or converting
# its mode makes one copy: 8 bytes a decoded pixel, reserved up front.
BYTES_PER_PIXEL = 8


class ImageTooCostly(MediaError):
    """An image whose pixels alone need more memory than image work may use."""

    category: ClassVar[Category | None] = Category.INPUT


class PixelMemory:
    """Bytes of decoded pixels in use across the process, at most `limit`."""

    def __init__(self, limit: int):
        self.limit = limit
        self.in_use = 0
        self.peak = 0  # the most ever in use (tests and benchmarks read it)
        self._changed = threading.Condition()

    def reserve(self, size: int, *, held: int = 0) -> None:
        """Take `size` more bytes for work that holds `held` already: refused when the work
        would hold more than the limit; waiting while others hold the rest, unless the work
        holds some already (it must not wait for work that may be waiting on it)."""
        if held + size > self.limit:
            what = "the image needs" if not held else "with the images before it, this one needs"
            raise ImageTooCostly(
                f"{what} {(held + size) / MB:,.0f} MB of memory to work on ({BYTES_PER_PIXEL} "
                f"bytes a pixel); the limit is {self.limit / MB:,.0f} MB "
                "(PLAIT_IMAGE_MEMORY_MB): send smaller images"
            )
        wait = held == 0
        with self._changed:
            while wait and self.in_use and self.in_use + size > self.limit:
                self._changed.wait()
            self.in_use += size
            self.peak = max(self.peak, self.in_use)

    def release(self, size: int) -> None:
        with self._changed:
            self.in_use -= size
            idle = self.in_use == 0
            self._changed.notify_all()
        if idle:
            _give_back_memory()


def _libc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`: freed image memory back to the system (glibc keeps large
    freed blocks in its heap once its threshold has grown, so RSS would stay at the peak)."""
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_TRIM = _libc_trim()


def _give_back_memory() -> None:
    if _TRIM is not None:
        _TRIM(0)


class _Lease(threading.local):
    held: int | None = None  # bytes the work on this thread holds; None: not in `run`


_memory = PixelMemory(DEFAULT_MEMORY_MB * MB)
_lease = _Lease()
_pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="plait-image")


def configure(memory_bytes: int) -> None:
    """Set the budget (from settings, at start-up)."""
    _memory.limit = memory_bytes


def memory() -> PixelMemory:
    return _memory


def reserve_pixels(width: int, height: int) -> None:
    """Called before decoding: reserve the image's memory for the work running on this
    thread (released when it ends). Outside `run` nothing is counted."""
    held = _lease.held
    if held is None:
        return
    size = width * height * BYTES_PER_PIXEL
    _memory.reserve(size, held=held)
    _lease.held = held + size


def _leased(work: Callable[[], T]) -> T:
    _lease.held = 0
    try:
        return work()
    finally:
        held, _lease.held = _lease.held or 0, None
        if held:
            _memory.release(held)


async def run(work: Callable[[], T]) -> T:
    """Run CPU-bound image work on the pool, within the memory budget."""
    return await asyncio.get_running_loop().run_in_executor(_pool, _leased, work)
