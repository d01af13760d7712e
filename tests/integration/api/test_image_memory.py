"""Image work over HTTP stays within its memory budget (issue: hardening, finding 1):
concurrent uploads all answered while the decoded pixels in flight never pass
PLAIT_IMAGE_MEMORY_MB, and an image that alone would is a 422 naming the limit."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from plait.media import work
from plait.media.work import MB
from tests.helpers import png
from tests.integration.api import flows
from tests.server import LiveServer, server_settings


@pytest.fixture
def small_budget(tmp_path: Path) -> Iterator[LiveServer]:
    settings = server_settings(tmp_path / "data", PLAIT_IMAGE_MEMORY_MB="64")
    with LiveServer(settings) as live:
        work.memory().peak = 0
        yield live
    work.configure(work.DEFAULT_MEMORY_MB * MB)


def test_concurrent_uploads_are_answered_within_the_budget(small_budget: LiveServer) -> None:
    picture = png(2500, 2500)  # 6.25 Mpx: 50 MB of the 64, so one at a time
    with small_budget.admin() as admin, ThreadPoolExecutor(8) as pool:
        upload = lambda _: admin.post("/api/uploads", files={"file": ("p.png", picture)})  # noqa: E731
        answers = list(pool.map(upload, range(8)))
    assert [a.status_code for a in answers] == [201] * 8
    assert work.memory().peak == 2500 * 2500 * work.BYTES_PER_PIXEL  # one at a time, never two
    assert work.memory().in_use == 0


def test_an_image_past_the_budget_is_a_422_naming_the_limit(small_budget: LiveServer) -> None:
    picture = png(3000, 3000)  # 72 MB
    with small_budget.admin() as admin:
        uploaded = admin.post("/api/uploads", files={"file": ("big.png", picture)})
        publication = flows.publish(admin, flows.create(admin, flows.photo_echo()))
    assert uploaded.status_code == 422
    assert "PLAIT_IMAGE_MEMORY_MB" in uploaded.json()["detail"]
    with small_budget.client() as caller:
        triggered = caller.post(
            f"/api/trigger/{publication['secret']}/trigger",
            files={"photo": ("big.png", picture, "image/png")},
        )
    assert triggered.status_code == 422, triggered.text
    [error] = triggered.json()["errors"]
    assert error["field"] == "photo"
    assert "the limit is 64 MB" in error["message"]
    assert work.memory().peak == 0  # nothing was decoded
