"""The garbage collector's settings: held, nested, and given back as they were."""

from __future__ import annotations

import gc

from plait.collector import long_lived_frozen, thresholds


def test_the_heap_stays_frozen_until_the_last_holder_lets_go() -> None:
    with long_lived_frozen():  # a server
        assert gc.get_freeze_count() > 0
        with long_lived_frozen():  # a batch it runs
            pass
        # the server's freeze outlives the batch (an unfreeze empties it: 0); the count is
        # not compared with the one before, since frozen objects freed meanwhile leave it
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_thresholds_apply_while_held_and_are_given_back() -> None:
    before = gc.get_threshold()
    with thresholds((12_345, 11, 12)):
        assert gc.get_threshold() == (12_345, 11, 12)
    assert gc.get_threshold() == before
