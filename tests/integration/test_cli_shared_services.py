"""The `plait` command on the shared services: images in the bucket, named by `s3://` URI;
a bad setting stops it at start with one line naming the variable."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from tests.helpers import EXAMPLES, open_image
from tests.integration.test_cli import plait


def test_run_stores_its_images_in_the_bucket_and_prints_where(
    tmp_path: Path, s3_bucket: str
) -> None:
    proc = plait(
        "run", str(EXAMPLES / "product-shot.json"), "-i", "prompt=red sneaker", "--preview",
        cwd=tmp_path, env={"PLAIT_BLOB_URL": f"s3://{s3_bucket}/cli"},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    image = json.loads(proc.stdout)["image"]
    assert image.startswith(f"s3://{s3_bucket}/cli/")
    key = image.removeprefix(f"s3://{s3_bucket}/")
    stored = boto3.client("s3").get_object(Bucket=s3_bucket, Key=key)["Body"].read()
    assert open_image(stored).size == (1200, 896)
    assert not (tmp_path / ".plait" / "blobs").exists()


def test_a_bad_setting_stops_serve_with_its_name(tmp_path: Path) -> None:
    proc = plait("serve", cwd=tmp_path, env={"PLAIT_REDIS_URL": "http://:hunter2@cache:6379"})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        "plait: PLAIT_REDIS_URL: must start with redis://, rediss:// or unix://; "
        "expected redis://[user:password@]host[:port][/db], rediss://… or unix://path"
    )
    assert "hunter2" not in proc.stderr
