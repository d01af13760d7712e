"""Record ids: random, 32 hex digits, never repeated, whichever thread draws them."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from plait.ids import new_id


def test_ids_are_32_hex_digits_and_distinct_across_many_refills() -> None:
    ids = [new_id() for _ in range(5_000)]  # ~20 refills of the pool
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_threads_drawing_at_once_never_get_the_same_id() -> None:
    with ThreadPoolExecutor(8) as pool:
        batches = list(pool.map(lambda _: [new_id() for _ in range(2_000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids) == 16_000
