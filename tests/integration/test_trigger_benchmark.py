"""benchmarks/trigger still runs and every load it makes is answered (a couple of seconds
per load; the numbers are not checked here: these machines are shared and noisy)."""

import pytest
from benchmarks import trigger


def test_the_trigger_benchmark_answers_every_load(capsys: pytest.CaptureFixture[str]) -> None:
    figures = trigger.main(["--duration", "1", "--rounds", "1", "--connections", "4"])

    assert list(figures) == ["bare", "echo", "sdk", "image"]
    for name, load in figures.items():
        assert load["rps"] > 0, name
        assert load["cpu_ms"] > 0, name  # read from /proc: these tests run on Linux
        assert load["errors"] == 0, f"{name}: {load['errors']} answers were not 2xx"
    assert figures["echo"]["ratio"] > 0
    assert figures["image"]["ratio"] > 0
    out = capsys.readouterr().out
    assert "targets: echo ≥ 40% of bare: " in out
    assert "image p99 < 25 ms: " in out
