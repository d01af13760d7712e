"""benchmarks/scale still runs and every call of every deployment is answered (a second
per load; the numbers are not checked here: these machines are shared and noisy)."""

import pytest
from benchmarks import scale


def test_the_scale_benchmark_answers_every_load(capsys: pytest.CaptureFixture[str]) -> None:
    figures = scale.main(["--duration", "1", "--rounds", "1", "--connections", "4"])

    assert list(figures) == ["1 worker", "2 workers", "sqlite", "postgres"]
    for name, load in figures.items():
        assert load["rps"] > 0, name
        assert load["cpu_ms"] > 0, name  # read from /proc: these tests run on Linux
        assert load["errors"] == 0, f"{name}: {load['errors']} answers were not 2xx"
    assert figures["2 workers"]["ratio"] > 0
    assert figures["postgres"]["ratio"] > 0
    out = capsys.readouterr().out
    assert "target: 2 workers ≥ 1.5× 1 worker: " in out
