"""`plait batch --batch-api`: a real process, the real SDK's batch calls against the fake."""

from __future__ import annotations

import csv
import json
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.gemini import FakeGemini, Fault, ModelListing
from tests.helpers import until
from tests.integration.test_batch import (
    ONE_IMAGE,
    TWO_IMAGES,
    environment,
    plait,
    query,
    statuses,
    the_batch,
    write_rows,
)

FAST_POLL = ("--poll-every", "0.05")


def manifest(out: Path) -> list[dict[str, str]]:
    with (out / "manifest.csv").open() as file:
        return list(csv.DictReader(file))


def flow_file(cwd: Path, document: dict[str, object]) -> Path:
    path = cwd / "flow.json"
    path.write_text(json.dumps(document))
    return path


def stored_jobs(cwd: Path) -> list[tuple[str, str, list[dict[str, object]]]]:
    try:
        found = query(cwd, "SELECT name, state, requests FROM batch_jobs ORDER BY submitted_at")
    except sqlite3.OperationalError:  # the database or its tables are not there yet
        return []
    return [(str(name), str(state), json.loads(requests)) for name, state, requests in found]


def wait_for_a_job(cwd: Path, fake: FakeGemini, timeout: float = 60) -> None:
    """Until the batch stored the job it submitted and polled it once."""
    until(
        lambda: bool(stored_jobs(cwd)) and bool(fake.batch_polls()), "a stored, polled job", timeout
    )


def start(cwd: Path, fake: FakeGemini, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "plait", "batch", *args, "--batch-api", "--yes", *FAST_POLL],
        cwd=cwd,
        env=environment(cwd, fake),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_batch_api_mode_returns_the_same_manifest_as_live_mode(tmp_path: Path) -> None:
    prompts = [f"row {n}" for n in range(1, 6)]
    live_dir, batch_dir = tmp_path / "live", tmp_path / "batch"
    results = {}
    with FakeGemini() as fake:
        for cwd, extra in ((live_dir, ()), (batch_dir, ("--batch-api", *FAST_POLL))):
            cwd.mkdir()
            flow, rows = flow_file(cwd, TWO_IMAGES), write_rows(cwd / "rows.csv", prompts)
            out = cwd / "out"
            proc = plait(
                str(flow), str(rows), "--yes", "--out", str(out), *extra, cwd=cwd, fake=fake
            )
            assert proc.returncode == 0, proc.stderr
            results[cwd] = (proc, manifest(out))
            if cwd == live_dir:
                generated = len(fake.generate_requests())
        # the batch run made no live call: two jobs (one per Image node round) did it all
        assert len(fake.generate_requests()) == generated == 10
        creates = fake.batch_creates()
    assert [len(c.body["batch"]["inputConfig"]["requests"]["requests"]) for c in creates] == [5, 5]
    (live_proc, live), (batch_proc, batch) = results[live_dir], results[batch_dir]
    same = ("row", "inputs", "status", "error", "outputs")
    assert [{k: m[k] for k in same} for m in batch] == [{k: m[k] for k in same} for m in live]
    assert {m["status"] for m in batch} == {"succeeded"}
    for live_row, batch_row in zip(live, batch, strict=True):  # the catalog's batch price: half
        assert float(batch_row["cost_usd"]) == pytest.approx(float(live_row["cost_usd"]) / 2)
        name = batch_row["outputs"]
        live_png = (live_dir / "out" / name).read_bytes()
        batch_png = (batch_dir / "out" / name).read_bytes()
        assert batch_png == live_png
        assert Image.open(batch_dir / "out" / name).size == (1024, 1024)
    assert "at Gemini Batch API prices" in batch_proc.stderr
    assert "estimated cost: $0.20" in batch_proc.stderr  # 5 rows × 2 images × $0.0195
    assert "estimated cost: $0.39" in live_proc.stderr
    backends = query(batch_dir, "SELECT DISTINCT backend FROM node_runs WHERE node_type='image'")
    assert backends == [("gemini-batch",)]


def test_killed_while_the_job_runs_then_resumed_polls_the_same_job(tmp_path: Path) -> None:
    flow = flow_file(tmp_path, ONE_IMAGE)
    rows = write_rows(tmp_path / "rows.csv", [f"row {n}" for n in range(1, 5)])
    with FakeGemini(batch_delay=3600) as fake:
        process = start(tmp_path, fake, str(flow), str(rows), "--out", str(tmp_path / "out"))
        try:
            wait_for_a_job(tmp_path, fake)
        finally:
            process.send_signal(signal.SIGKILL)
            process.communicate()
        [(name, state, requests)] = stored_jobs(tmp_path)
        assert state in ("PENDING", "RUNNING")
        assert sorted((r["row"], r["attempt"], r["node"]) for r in requests) == [
            (n, 1, "image") for n in range(1, 5)
        ]
        fake.finish_batches()
        fake.batch_delay = 0  # a job submitted again would end at once (and be counted)

        proc = plait("--resume", the_batch(tmp_path), "--yes", *FAST_POLL, cwd=tmp_path, fake=fake)

        assert proc.returncode == 0, proc.stderr
        assert len(fake.batch_creates()) == 1  # submitted (and paid for) once
        assert fake.generate_requests() == []
        assert fake.batch_polls()[-1].path.endswith(name)
    assert "polling the 1 Batch API job(s)" in proc.stderr
    assert statuses(tmp_path) == {"succeeded": 4}
    assert stored_jobs(tmp_path)[0][1] == "SUCCEEDED"
    assert [m["outputs"] for m in manifest(tmp_path / "out")] == [
        f"row-0000{n}-image.png" for n in range(1, 5)
    ]


def test_interrupted_with_ctrl_c_then_resumed_waits_for_the_same_job(tmp_path: Path) -> None:
    flow = flow_file(tmp_path, ONE_IMAGE)
    rows = write_rows(tmp_path / "rows.csv", ["a", "b"])
    with FakeGemini(batch_delay=3600) as fake:
        process = start(tmp_path, fake, str(flow), str(rows))
        wait_for_a_job(tmp_path, fake)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 130, stderr
        fake.finish_batches()
        fake.batch_delay = 0  # a job submitted again would end at once (and be counted)

        proc = plait("--resume", the_batch(tmp_path), "--yes", *FAST_POLL, cwd=tmp_path, fake=fake)

        assert proc.returncode == 0, proc.stderr
        assert len(fake.batch_creates()) == 1  # the new attempts took the first one's answers
    assert statuses(tmp_path) == {"succeeded": 2}
    assert query(tmp_path, "SELECT DISTINCT attempts FROM batch_rows") == [(2,)]


def test_a_job_that_expires_fails_its_rows_and_retry_failed_submits_them_again(
    tmp_path: Path,
) -> None:
    flow = flow_file(tmp_path, ONE_IMAGE)
    rows = write_rows(tmp_path / "rows.csv", ["a", "b", "c"])
    with FakeGemini(batch_delay=3600) as fake:
        process = start(tmp_path, fake, str(flow), str(rows))
        wait_for_a_job(tmp_path, fake)
        fake.finish_batches("BATCH_STATE_EXPIRED")
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 1, stderr
        errors = query(tmp_path, "SELECT status, error FROM batch_rows ORDER BY number")
        assert [status for status, _ in errors] == ["failed"] * 3
        assert all("ended EXPIRED" in error and "48 hours" in error for _, error in errors)
        assert f"--retry-failed {the_batch(tmp_path)}" in stderr

        fake.batch_delay = 0
        retry = plait(
            "--retry-failed", the_batch(tmp_path), "--yes", *FAST_POLL, cwd=tmp_path, fake=fake
        )

        assert retry.returncode == 0, retry.stderr
        assert len(fake.batch_creates()) == 2
    assert statuses(tmp_path) == {"succeeded": 3}
    assert [state for _, state, _ in stored_jobs(tmp_path)] == ["EXPIRED", "SUCCEEDED"]


def test_an_error_for_one_request_fails_only_its_row(tmp_path: Path) -> None:
    flow = flow_file(tmp_path, ONE_IMAGE)
    rows = write_rows(tmp_path / "rows.csv", ["a", "b", "c"])
    with FakeGemini() as fake:
        fake.fail(Fault.error(400, "Request contains an invalid argument."))
        proc = plait(
            str(flow), str(rows), "--yes", "--batch-api", *FAST_POLL, cwd=tmp_path, fake=fake
        )
        assert proc.returncode == 1
        rows_now = query(tmp_path, "SELECT inputs, status, error FROM batch_rows")
        failed = [(json.loads(i)["prompt"], e) for i, s, e in rows_now if s == "failed"]
        assert len(failed) == 1  # the request the fault hit; the others succeeded
        [(prompt, error)] = failed
        assert statuses(tmp_path) == {"failed": 1, "succeeded": 2}
        assert error.startswith("node 'image': Gemini's batch job batches/fake1 refused")
        assert "(INVALID_ARGUMENT: Request contains an invalid argument). " in error
        assert "check the prompt" in error

        retry = plait(
            "--retry-failed", the_batch(tmp_path), "--yes", *FAST_POLL, cwd=tmp_path, fake=fake
        )

        assert retry.returncode == 0, retry.stderr
        creates = fake.batch_creates()
    assert len(creates) == 2
    [again] = creates[1].body["batch"]["inputConfig"]["requests"]["requests"]
    assert again["request"]["contents"][0]["parts"][0]["text"] == prompt  # only the failed row
    assert statuses(tmp_path) == {"succeeded": 3}


def test_batch_api_mode_refuses_the_preview_backend(tmp_path: Path) -> None:
    flow = flow_file(tmp_path, ONE_IMAGE)
    rows = write_rows(tmp_path / "rows.csv", ["a"])
    for args in (["--preview"], []):  # asked for, or the default without a key
        proc = plait(str(flow), str(rows), "--batch-api", "--yes", *args, cwd=tmp_path)
        assert proc.returncode == 2
        assert "the offline preview backend has no batch mode" in proc.stderr
    assert not (tmp_path / ".plait" / "plait.db").exists() or stored_jobs(tmp_path) == []


@pytest.mark.parametrize("mode", ["live", "batch-api"])
def test_a_model_this_key_does_not_list_fails_its_rows_before_anything_is_paid(
    tmp_path: Path, mode: str
) -> None:
    flow = flow_file(tmp_path, ONE_IMAGE)  # on gemini-2.5-flash-image
    rows = write_rows(tmp_path / "rows.csv", ["row 1", "row 2"])
    extra = ("--batch-api", *FAST_POLL) if mode == "batch-api" else ()
    with FakeGemini() as fake:
        fake.listing = ModelListing(models=("gemini-nano-banana-2.1", "gemini-3-pro-image"))
        out = tmp_path / "out"
        proc = plait(
            str(flow), str(rows), "--yes", "--out", str(out), *extra, cwd=tmp_path, fake=fake
        )
        assert fake.batch_creates() == []  # no job submitted
        assert fake.generate_requests() == []  # no live call either

    assert proc.returncode == 1, proc.stderr
    rows_out = manifest(out)
    assert [m["status"] for m in rows_out] == ["failed", "failed"]
    assert rows_out[0]["error"].startswith(
        "node 'image': gemini-2.5-flash-image is not in this Gemini API key's model list "
        "(models.list), so Gemini would refuse it; models this key can use: "
        "gemini-nano-banana-2.1, gemini-3-pro-image."
    )
