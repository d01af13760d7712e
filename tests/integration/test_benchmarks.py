"""The benchmarks still run (a couple of rounds; the numbers are not checked here)."""

import os

import pytest
from benchmarks import gemini, image_memory, startup


async def test_the_gemini_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    before = dict(os.environ)
    await gemini.main(rounds=2, warmup=1)
    assert dict(os.environ) == before
    out = capsys.readouterr().out
    assert "direct: SDK + Pillow" in out
    assert "Plait adds" in out
    assert "PASS" in out or "MISS" in out


def test_the_gemini_benchmark_takes_rounds() -> None:
    assert gemini.arguments(["--rounds", "7"]).rounds == 7
    with pytest.raises(SystemExit):
        gemini.arguments(["--rounds", "1"])


def test_the_image_memory_benchmark_runs_and_every_upload_is_answered() -> None:
    figures = image_memory.main(uploads=3, megapixels=4)
    assert figures["one_upload_status"] == 201
    assert figures["statuses"] == [201, 201, 201]
    assert figures["peak_mb"] >= figures["rss_at_rest_mb"] > 0


def test_the_startup_benchmark_measures_the_chosen_start_ups_and_its_baseline(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = startup.main(rounds=1, only=["plait --help"])
    assert list(figures) == ["baseline: import the libraries Plait needs", "plait --help"]
    assert all(seconds > 0 for seconds in figures.values())
    assert "× baseline" in capsys.readouterr().out
