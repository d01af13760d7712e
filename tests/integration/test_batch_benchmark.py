"""benchmarks/batch still runs (tiny sizes; the numbers are not checked here)."""

import os

import pytest
from benchmarks import batch


async def test_the_batch_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    before = dict(os.environ)
    args = batch.arguments(
        ["--rows", "30", "--latency", "0.05", "--concurrency", "10", "--limited-rows", "10"]
    )
    await batch.main(args)
    assert dict(os.environ) == before
    out = capsys.readouterr().out
    assert "ideal N×L/C" in out
    assert "achieved ÷ allowed" in out
    assert "peak RSS" in out


def test_the_batch_benchmark_checks_its_arguments() -> None:
    assert batch.arguments(["--rows", "7"]).rows == 7
    with pytest.raises(SystemExit):
        batch.arguments(["--latency", "0"])
