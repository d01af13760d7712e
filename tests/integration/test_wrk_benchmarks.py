"""The benchmarks that load servers with wrk still run and every load they make is
answered (a second or two per load; the numbers are not checked here: these machines are
shared and noisy)."""

from collections.abc import Callable
from typing import Any

import pytest
from benchmarks import scale, trigger

Main = Callable[[list[str]], dict[str, dict[str, Any]]]


SPLIT = {"serve", "workers"}  # scale.py's CPU by role of each deployment


@pytest.mark.parametrize(
    ("main", "seconds", "warmup", "loads", "said", "roles"),
    [
        (
            trigger.main,
            1,
            1,  # the server answers at once: a second warms every target up
            {"bare": None, "echo": "bare", "sdk": None, "image": "sdk"},
            ["targets: echo ≥ 0.25× its baseline: ", "image ≥ 0.65× its baseline: "],
            None,
        ),
        (
            scale.main,
            3,  # the first calls through a new plait worker take a second or two
            2,
            {"1 worker": None, "2 workers": "1 worker", "sqlite": None, "postgres": "sqlite"},
            ["target: 2 workers ≥ 1.5× 1 worker: ", "  by role"],
            {
                "1 worker": SPLIT,
                "2 workers": SPLIT,
                "sqlite": {"serve", "commit"},  # its child commits SQLite's batches
                "postgres": {"serve"},
            },
        ),
    ],
    ids=["trigger", "scale"],
)
def test_the_benchmark_answers_every_load(
    capsys: pytest.CaptureFixture[str],
    main: Main,
    seconds: int,
    warmup: int,
    loads: dict[str, str | None],
    said: list[str],
    roles: dict[str, set[str]] | None,
) -> None:
    """`seconds` per load, after `warmup` seconds of load on each target; `loads`: each
    load the benchmark makes, and the baseline its ratio is to; `roles`: the processes
    whose CPU per call each load reports."""
    figures = main(
        ["--duration", str(seconds), "--warmup", str(warmup), "--rounds", "1", "--connections", "4"]
    )

    assert list(figures) == list(loads)
    for name, load in figures.items():
        assert load["rps"] > 0, name
        assert load["cpu_ms"] > 0, name  # read from /proc: these tests run on Linux
        assert load["errors"] == 0, f"{name}: {load['errors']} answers were not 2xx"
        assert ("ratio" in load) == (loads[name] is not None), name
        assert load.get("ratio", 1) > 0, name
        if roles is not None:
            assert set(load["roles_ms"]) == roles[name], name
            assert all(ms > 0 for ms in load["roles_ms"].values()), name
            assert sum(load["roles_ms"].values()) == pytest.approx(load["cpu_ms"], rel=0.05)
    out = capsys.readouterr().out
    for line in said:
        assert line in out
