"""`plait batch` as a user runs it: a real process, the real SDK against the fake Gemini."""

from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.gemini import FakeGemini, Fault
from tests.helpers import EXAMPLES, until

PRODUCT_SHOT = EXAMPLES / "product-shot.json"
# pinned to gemini-2.5-flash-image ($0.039 an image): the prices these tests count with
ONE_IMAGE = {
    "format": 1,
    "nodes": [
        {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
        {
            "id": "image",
            "type": "image",
            "config": {"model": "gemini-2.5-flash-image", "prompt": "{{ trigger.prompt }}"},
        },
        {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
    ],
    "edges": [{"from": "image.image", "to": "respond.image"}],
}
TWO_IMAGES = {
    "format": 1,
    "nodes": [
        {"id": "trigger", "type": "http_trigger", "config": {"fields": [{"name": "prompt"}]}},
        {
            "id": "first",
            "type": "image",
            "config": {"model": "gemini-2.5-flash-image", "prompt": "first {{ trigger.prompt }}"},
        },
        {
            "id": "second",
            "type": "image",
            "config": {
                "model": "gemini-2.5-flash-image",
                "prompt": "second {{ trigger.prompt }}",
                "references": [{"port": "ref", "caption": "this:"}],
            },
        },
        {"id": "respond", "type": "respond", "config": {"fields": [{"name": "image"}]}},
    ],
    "edges": [
        {"from": "first.image", "to": "second.ref"},
        {"from": "second.image", "to": "respond.image"},
    ],
}


def environment(cwd: Path, fake: FakeGemini | None) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "GEMINI_", "GOOGLE_"))
    }
    env["PLAIT_DATA_DIR"] = str(cwd / ".plait")
    if fake is not None:
        env.update(GEMINI_API_KEY="test-key", PLAIT_GEMINI_BASE_URL=fake.base_url)
    return env


def plait(
    *args: str,
    cwd: Path,
    fake: FakeGemini | None = None,
    timeout: float = 300,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plait", "batch", *args],
        cwd=cwd,
        env=environment(cwd, fake) | env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def write_rows(path: Path, prompts: list[str]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["prompt"])
        writer.writerows([p] for p in prompts)
    return path


def query(cwd: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(cwd / ".plait" / "plait.db", timeout=30) as db:
        return db.execute(sql, params).fetchall()


def the_batch(cwd: Path) -> str:
    [(batch_id,)] = query(cwd, "SELECT id FROM batches")
    return str(batch_id)


def statuses(cwd: Path) -> Counter[str]:
    return Counter(status for (status,) in query(cwd, "SELECT status FROM batch_rows"))


def prompts_sent(fake: FakeGemini) -> Counter[str]:
    return Counter(str(r.parts()[0]["text"]) for r in fake.generate_requests())


def test_500_rows_with_429s_and_500s_every_row_accounted_for(tmp_path: Path) -> None:
    flow = tmp_path / "one.json"
    flow.write_text(json.dumps(ONE_IMAGE))
    rows = write_rows(tmp_path / "rows.csv", [f"row {n}" for n in range(1, 501)])
    out = tmp_path / "out"
    with FakeGemini() as fake:
        retried = [Fault.error(429, retry_after="0"), Fault.error(500)] * 25
        fake.fail(*retried, Fault.blocked(), Fault.blocked(), Fault.blocked())
        args = (str(flow), str(rows), "-c", "50", "--yes", "--out", str(out))
        # Faults go to calls in arrival order: with 4 attempts a row whose retries kept
        # arriving while faults were left could fail on them too; 10 rule that out.
        proc = plait(*args, cwd=tmp_path, fake=fake, PLAIT_GEMINI_ATTEMPTS="10")
        assert proc.returncode == 1, proc.stderr  # three rows were blocked
        assert statuses(tmp_path) == {"succeeded": 497, "failed": 3}
        assert "slowed" in proc.stderr  # the 429s reached the limiter
        assert f"--retry-failed {the_batch(tmp_path)}" in proc.stderr
        with (out / "manifest.csv").open() as file:
            manifest = list(csv.DictReader(file))
        assert [int(m["row"]) for m in manifest] == list(range(1, 501))
        failed = [m for m in manifest if m["status"] == "failed"]
        assert len(failed) == 3
        assert all("blocked" in m["error"] for m in failed)
        done = [m for m in manifest if m["status"] == "succeeded"]
        assert all((out / name).is_file() for m in done for name in m["outputs"].split())
        assert all(float(m["cost_usd"]) > 0 for m in done)
        sent_before = len(fake.generate_requests())

        again = plait("--retry-failed", the_batch(tmp_path)[:8], "--yes", cwd=tmp_path, fake=fake)
        assert again.returncode == 0, again.stderr
        assert statuses(tmp_path) == {"succeeded": 500}
        assert len(fake.generate_requests()) == sent_before + 3  # only the failed rows ran
        assert len(list((out).glob("row-*-image.png"))) == 500  # the manifest's folder is kept
    # 50 retried faults + 3 blocked + 500 images + 3 retries: each row succeeded once
    assert len(prompts_sent(fake)) == 500


def start_two_image_batch(
    cwd: Path, fake: FakeGemini, rows: int, stderr: int = subprocess.DEVNULL
) -> subprocess.Popen[str]:
    """`plait batch` of TWO_IMAGES over `rows` rows, in a process of its own."""
    flow = cwd / "two.json"
    flow.write_text(json.dumps(TWO_IMAGES))
    table = write_rows(cwd / "rows.csv", [f"row-{n}" for n in range(1, rows + 1)])
    return subprocess.Popen(
        [sys.executable, "-m", "plait", "batch", str(flow), str(table), "-c", "4", "--yes"],
        cwd=cwd,
        env=environment(cwd, fake),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )


def made_images(cwd: Path) -> set[str]:
    """Every image the database records as made, as "<node> <prompt>"."""
    made = query(
        cwd,
        "SELECT r.inputs, n.node_id FROM node_runs n JOIN runs r ON r.id = n.run_id "
        "WHERE n.node_type = 'image' AND n.status = 'succeeded'",
    )
    return {f"{node} {json.loads(inputs)['prompt']}" for inputs, node in made}


def test_killed_midway_then_resumed_pays_for_no_image_twice(tmp_path: Path) -> None:
    with FakeGemini(latency=0.25) as fake:
        process = start_two_image_batch(tmp_path, fake, rows=40)
        try:
            wait_for_a_half_done_run(tmp_path, rows_done=8)
        finally:
            process.send_signal(signal.SIGKILL)
            process.wait()
        recorded = made_images(tmp_path)  # what the database held at the kill
        settled_before = statuses(tmp_path)["succeeded"]
        assert 8 <= settled_before < 40
        in_flight = len(fake.generate_requests()) - len(recorded)

        proc = plait("--resume", the_batch(tmp_path), "--yes", cwd=tmp_path, fake=fake)
        assert proc.returncode == 0, proc.stderr
        sent = prompts_sent(fake)
    assert statuses(tmp_path) == {"succeeded": 40}
    assert all(sent[prompt] == 1 for prompt in recorded)  # nothing recorded was made again
    assert set(sent) == {f"{node} row-{n}" for n in range(1, 41) for node in ("first", "second")}
    assert sum(sent.values()) - 80 <= in_flight  # repeats: only calls cut off by the kill
    succeeded_runs = query(
        tmp_path, "SELECT count(*) FROM runs WHERE source = 'batch' AND status = 'succeeded'"
    )
    assert succeeded_runs == [(40,)]  # no row completed twice


def test_interrupted_with_ctrl_c_then_resumed(tmp_path: Path) -> None:
    with FakeGemini(latency=0.25) as fake:
        process = start_two_image_batch(tmp_path, fake, rows=30, stderr=subprocess.PIPE)
        try:
            wait_for_a_half_done_run(tmp_path, rows_done=5)
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = process.communicate(timeout=60)
        assert process.returncode == 130, stderr
        assert "plait: interrupted" in stderr
        recorded = made_images(tmp_path)
        cancelled = query(tmp_path, "SELECT count(*) FROM runs WHERE status = 'cancelled'")
        assert cancelled[0][0] > 0  # the runs in flight were recorded as cancelled

        proc = plait("--resume", the_batch(tmp_path)[:12], "--yes", cwd=tmp_path, fake=fake)
        assert proc.returncode == 0, proc.stderr
        sent = prompts_sent(fake)
    assert statuses(tmp_path) == {"succeeded": 30}
    assert all(sent[prompt] == 1 for prompt in recorded)  # a cancelled run's image is kept


def wait_for_a_half_done_run(cwd: Path, rows_done: int, timeout: float = 60) -> None:
    """Until `rows_done` rows succeeded and some run has its first image but not its second."""

    def half_done() -> bool:
        try:
            done = statuses(cwd)["succeeded"]
            half = query(
                cwd,
                "SELECT count(*) FROM runs r JOIN node_runs n ON n.run_id = r.id "
                "WHERE r.status = 'running' AND n.node_id = 'first' AND n.status = 'succeeded'",
            )
        except sqlite3.OperationalError:  # the database or its tables are not there yet
            return False
        return done >= rows_done and half[0][0] > 0

    until(half_done, "a batch with rows done and a run half done", timeout)


def test_budget_stops_at_the_right_row(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", [f"row {n}" for n in range(1, 11)])
    with FakeGemini() as fake:
        args = (str(PRODUCT_SHOT), str(rows), "-c", "1", "--yes", "--budget", "0.2")
        proc = plait(*args, cwd=tmp_path, fake=fake)
        assert proc.returncode == 1
        assert "budget of $0.20" in proc.stderr
        done = query(tmp_path, "SELECT cost_usd FROM batch_rows WHERE status = 'succeeded'")
        per_row, estimate = done[0][0], 0.0336  # the example's gemini-nano-banana-2.1 at 1K
        expected = 0  # a row starts while the recorded cost plus its estimate fits
        while expected * per_row + estimate <= 0.2:
            expected += 1
        assert len(done) == expected == 5
        assert len(fake.generate_requests()) == expected
        skipped = query(tmp_path, "SELECT number, error FROM batch_rows WHERE status = 'skipped'")
        assert skipped == [(n, "skipped: budget") for n in range(expected + 1, 11)]

        resume = ("--resume", the_batch(tmp_path), "--yes", "--budget", "1")
        more = plait(*resume, cwd=tmp_path, fake=fake)
        assert more.returncode == 0, more.stderr
        assert statuses(tmp_path) == {"succeeded": 10}
        assert len(fake.generate_requests()) == 10


def test_bad_rows_are_reported_by_row_and_column_before_anything_runs(tmp_path: Path) -> None:
    flow = tmp_path / "flow.json"
    flow.write_text(
        json.dumps(
            {
                "format": 1,
                "nodes": [
                    {
                        "id": "trigger",
                        "type": "http_trigger",
                        "config": {
                            "fields": [
                                {"name": "prompt"},
                                {"name": "count", "type": "number", "required": False},
                                {"name": "photo", "type": "image", "required": False},
                            ]
                        },
                    },
                    {"id": "image", "type": "image", "config": {"prompt": "{{ trigger.prompt }}"}},
                ],
                "edges": [],
            }
        )
    )
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"prompt": "fine"}\n{"count": 3}\n{"prompt": "x", "count": "many"}\n'
        '{"prompt": "y", "photo": "missing.png"}\n'
    )
    with FakeGemini() as fake:
        proc = plait(str(flow), str(rows), "--yes", cwd=tmp_path, fake=fake)
        assert fake.generate_requests() == []
    assert proc.returncode == 2
    assert "rows.jsonl, row 2, column 'prompt': is required" in proc.stderr
    assert "row 3, column 'count': expects a number, got 'many'" in proc.stderr
    assert "row 4, column 'photo': file not found" in proc.stderr
    assert "nothing was run" in proc.stderr

    rows.write_text('{"prompt": "x", "colour": "red"}\n')
    proc = plait(str(flow), str(rows), "--yes", cwd=tmp_path)
    assert proc.returncode == 2
    assert "row 1, column 'colour': not a field of the trigger" in proc.stderr


def test_an_estimate_is_confirmed_or_refused(tmp_path: Path) -> None:
    rows = write_rows(tmp_path / "rows.csv", ["a", "b"])
    with FakeGemini() as fake:
        proc = plait(str(PRODUCT_SHOT), str(rows), cwd=tmp_path, fake=fake)
        assert fake.generate_requests() == []
    assert proc.returncode == 2
    assert "estimated cost: $0.07 ($0.0336 per row)" in proc.stderr
    assert "pass --yes" in proc.stderr


def test_images_by_path_relative_to_the_rows_file_in_preview(tmp_path: Path) -> None:
    from tests.helpers import png

    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(png(40, 30))
    flow = tmp_path / "flow.json"
    flow.write_text(
        json.dumps(
            {
                "format": 1,
                "nodes": [
                    {
                        "id": "trigger",
                        "type": "http_trigger",
                        "config": {"fields": [{"name": "photo", "type": "image"}]},
                    },
                    {"id": "respond", "type": "respond", "config": {"fields": [{"name": "photo"}]}},
                ],
                "edges": [{"from": "trigger.photo", "to": "respond.photo"}],
            }
        )
    )
    rows = tmp_path / "pics" / "rows.csv"
    rows.write_text("photo\na.png\n")
    proc = plait(str(flow), str(rows), "--preview", "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "row-00001-photo.png").read_bytes() == (
        tmp_path / "pics" / "a.png"
    ).read_bytes()


@pytest.mark.parametrize("args", [["--resume", "nope"], []])
def test_usage_errors(tmp_path: Path, args: list[str]) -> None:
    proc = plait(*args, cwd=tmp_path)
    assert proc.returncode == 2
    assert "plait:" in proc.stderr
