"""Record ids: random, 32 hex digits, never repeated, whichever thread draws them."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

from plait.ids import new_id, ordered_id


def test_ids_are_32_hex_digits_and_distinct_across_many_refills() -> None:
    ids = [new_id() for _ in range(5_000)]  # ~20 refills of the pool
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_threads_drawing_at_once_never_get_the_same_id() -> None:
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(2_000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids) == 16_000


def test_ordered_ids_sort_by_creation_time_and_stay_distinct_within_a_millisecond() -> None:
    first = [ordered_id() for _ in range(2_000)]
    last_ms = int(first[-1][:12], 16)
    while time.time_ns() // 1_000_000 <= last_ms:  # into the next millisecond
        pass
    later = [ordered_id() for _ in range(2_000)]  # every one sorts after every earlier one
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in first + later)
    assert max(first) < min(later)
    assert len(set(first + later)) == 4_000
    assert abs(int(later[0][:12], 16) - time.time() * 1000) < 60_000  # milliseconds since 1970
