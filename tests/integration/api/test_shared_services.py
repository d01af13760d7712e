"""A server on the shared services (`PLAIT_REDIS_URL`, `PLAIT_BLOB_URL`), all real: runs go
through SAQ on Redis, images into the bucket and are served from it, `/api/health`
reports each service by name."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from plait.media.blobs import LocalBlobStore
from plait.scale import health_checks
from plait.settings import Settings
from plait.store.db import Database
from tests.helpers import open_image, png
from tests.integration.api import flows
from tests.server import LiveServer, server_settings
from tests.services import free_port, redis_server

PREFIX = "team/blobs"


@pytest.fixture
def shared_server(tmp_path: Path, redis_url: str, s3_bucket: str) -> Iterator[LiveServer]:
    settings = server_settings(
        tmp_path / "data",
        PLAIT_BASE_URL=None,
        PLAIT_REDIS_URL=redis_url,
        PLAIT_BLOB_URL=f"s3://{s3_bucket}/{PREFIX}",
    )
    with LiveServer(settings) as live:
        live.settings.base_url = live.url
        yield live


def _bucket_object(bucket: str, key: str) -> bytes:
    """Read straight from the store with boto3 (the AWS_* variables point at it)."""
    body: bytes = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def _finished_events(client: httpx.Client, run_id: str) -> list[dict[str, Any]]:
    events = []
    with client.stream("GET", f"/api/runs/{run_id}/events") as stream:
        for line in stream.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line.removeprefix("data: ")))
                if events[-1]["kind"] == "run_finished":
                    return events
    raise AssertionError(f"the events of run {run_id} ended before it finished: {events}")


def test_a_queued_run_stores_its_image_in_the_bucket_and_the_server_serves_it(
    shared_server: LiveServer, s3_bucket: str
) -> None:
    with shared_server.admin() as admin:
        flow_id = flows.create(admin, flows.image_endpoint())
        started = admin.post(f"/api/flows/{flow_id}/runs", json={"inputs": {"prompt": "a cat"}})
        assert started.status_code == 202, started.text
        events = _finished_events(admin, started.json()["run_id"])  # queued through Redis
        assert events[-1]["status"] == "succeeded"
        image = next(e for e in events if e["kind"] == "node_finished" and e["node_id"] == "image")
        url = image["outputs"]["image"]["url"]
        served = admin.get(url)
    assert served.status_code == 200
    assert open_image(served.content).size == (1024, 1024)
    sha = url.split("/files/")[1].split("?")[0]
    assert _bucket_object(s3_bucket, f"{PREFIX}/{sha[:2]}/{sha[2:]}") == served.content
    blob_dir = Path(shared_server.settings.blob_dir)
    assert not blob_dir.exists() or not any(p.is_file() for p in blob_dir.rglob("*"))


def test_an_upload_is_served_from_the_bucket_by_a_second_server(
    shared_server: LiveServer, tmp_path: Path, redis_url: str, s3_bucket: str
) -> None:
    """Images written by one process are served by another (its own data dir)."""
    with shared_server.admin() as admin:
        answer = admin.post("/api/uploads", files={"file": ("a.png", png(6, 4))})
        assert answer.status_code == 201, answer.text
        path = answer.json()["url"].removeprefix(shared_server.url)
    other = server_settings(
        tmp_path / "other",
        PLAIT_REDIS_URL=redis_url,
        PLAIT_BLOB_URL=f"s3://{s3_bucket}/{PREFIX}",
    )
    with LiveServer(other) as second, second.client() as client:
        served = client.get(path)  # the same master key: the link is valid here too
    assert served.status_code == 200
    assert open_image(served.content).size == (6, 4)


def ready_checks(live: LiveServer) -> dict[str, object]:
    """`/api/health` of a ready server: 200, "ok", a version; its checks by name."""
    with live.client() as anonymous:
        answer = anonymous.get("/api/health")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok"
    assert body["version"]
    checks: dict[str, object] = body["checks"]
    return checks


def test_health_names_each_shared_service(shared_server: LiveServer) -> None:
    assert ready_checks(shared_server) == {
        "redis": {"ok": True},
        "blobs": {"ok": True},
        "database": {"ok": True},
    }


def test_health_is_503_when_the_bucket_is_missing(tmp_path: Path, s3_bucket: str) -> None:
    settings = server_settings(tmp_path / "data", PLAIT_BLOB_URL="s3://no-such-bucket-here/x")
    with LiveServer(settings) as live, live.client() as anonymous:
        answer = anonymous.get("/api/health")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["blobs"]["ok"] is False
    assert "no-such-bucket-here" not in answer.text  # a public route: no names, no addresses


async def test_an_unreachable_redis_fails_its_check_without_naming_its_address(
    tmp_path: Path, db: Database
) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = Settings(_env_file=None, PLAIT_REDIS_URL=url)
    checks = health_checks(settings, db, LocalBlobStore(tmp_path / "blobs"))
    results = await checks.run()
    assert results["blobs"] == {"ok": True}
    assert results["database"] == {"ok": True}
    assert results["redis"]["ok"] is False
    assert "hunter2" not in results["redis"]["error"]
    assert "127.0.0.1" not in results["redis"]["error"]


def test_the_default_server_checks_its_database_and_blob_directory(server: LiveServer) -> None:
    # no Redis configured: no Redis check
    assert ready_checks(server) == {"blobs": {"ok": True}, "database": {"ok": True}}


def test_when_redis_dies_calls_get_503_and_health_names_redis(tmp_path: Path) -> None:
    """Redis holds the rate-limit counters and the queue: without it a trigger call cannot
    be counted, so it is refused with 503 and Retry-After, naming the service only."""
    with redis_server() as redis:
        settings = server_settings(tmp_path / "data", PLAIT_REDIS_URL=redis.url())
        with LiveServer(settings) as live, live.admin() as admin:
            secret = flows.publish(admin, flows.create(admin, flows.echo()))["secret"]
            with live.client() as caller:
                before = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"})
                assert before.status_code == 200, before.text
                redis.process.terminate()
                redis.process.wait()
                during = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "x"})
                health = caller.get("/api/health")
    assert during.status_code == 503
    assert during.headers["Retry-After"] == "5"
    assert during.json() == {"detail": "the rate-limit store cannot be reached; try again shortly"}
    assert health.status_code == 503
    assert health.json()["checks"]["redis"]["ok"] is False
    assert health.json()["checks"]["blobs"] == {"ok": True}
