"""The benchmarks that load servers with wrk still run and every load they make is
answered (a second or two per load; the numbers are not checked here: these machines are
shared and noisy)."""

from collections.abc import Callable
from typing import Any

import pytest
from benchmarks import scale, trigger

Main = Callable[[list[str]], dict[str, dict[str, Any]]]


@pytest.mark.parametrize(
    ("main", "seconds", "loads", "said"),
    [
        (
            trigger.main,
            1,
            {"bare": None, "echo": "bare", "sdk": None, "image": "sdk"},
            ["targets: echo ≥ 40% of bare: ", "image p99 < 25 ms: "],
        ),
        (
            scale.main,
            3,  # the first calls through a new plait worker take a second or two
            {"1 worker": None, "2 workers": "1 worker", "sqlite": None, "postgres": "sqlite"},
            ["target: 2 workers ≥ 1.5× 1 worker: "],
        ),
    ],
    ids=["trigger", "scale"],
)
def test_the_benchmark_answers_every_load(
    capsys: pytest.CaptureFixture[str],
    main: Main,
    seconds: int,
    loads: dict[str, str | None],
    said: list[str],
) -> None:
    """`seconds` per load; `loads`: each load the benchmark makes, and the baseline its
    ratio is to."""
    figures = main(["--duration", str(seconds), "--rounds", "1", "--connections", "4"])

    assert list(figures) == list(loads)
    for name, load in figures.items():
        assert load["rps"] > 0, name
        assert load["cpu_ms"] > 0, name  # read from /proc: these tests run on Linux
        assert load["errors"] == 0, f"{name}: {load['errors']} answers were not 2xx"
        assert ("ratio" in load) == (loads[name] is not None), name
        assert load.get("ratio", 1) > 0, name
    out = capsys.readouterr().out
    for line in said:
        assert line in out
