"""The bounded pool for image work: decoded pixels in flight stay within the budget, an
image bigger than the budget is refused before decoding, a resize decodes a JPEG small."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from PIL import Image

from plait.media import images, work
from plait.media.work import MB, ImageTooCostly
from tests.helpers import png


@pytest.fixture
def budget() -> Iterator[work.PixelMemory]:
    memory = work.memory()
    before = memory.limit
    work.configure(64 * MB)
    memory.peak = 0
    yield memory
    work.configure(before)


async def test_concurrent_work_never_holds_more_than_the_budget(
    budget: work.PixelMemory,
) -> None:
    picture = png(2000, 2000)  # 4 Mpx: 32 MB reserved each, two fit in 64 MB
    results = await asyncio.gather(*(work.run(lambda: images.sanitize(picture)) for _ in range(8)))
    assert all(images.inspect(r).width == 2000 for r in results)
    assert 32 * MB <= budget.peak <= 64 * MB  # reserved for real, never past the limit
    assert budget.in_use == 0  # all given back


async def test_an_image_bigger_than_the_budget_is_refused_naming_the_limit(
    budget: work.PixelMemory,
) -> None:
    picture = png(3000, 3000)  # 9 Mpx: 72 MB
    with pytest.raises(
        ImageTooCostly, match=r"needs 69 MB .* the limit is 64 MB \(PLAIT_IMAGE_MEMORY_MB\)"
    ):
        await work.run(lambda: images.sanitize(picture))
    assert budget.peak == 0  # refused before anything was decoded


def test_outside_the_pool_nothing_is_counted(budget: work.PixelMemory) -> None:
    images.decode(png(100, 100))
    assert budget.peak == 0


async def test_a_resize_decodes_a_jpeg_only_as_big_as_it_needs(budget: work.PixelMemory) -> None:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (10, 120, 200)).save(out, "JPEG")
    data = out.getvalue()
    decoded = await work.run(lambda: images.decode(data, at_least=600))
    assert decoded.size == (1000, 750)  # 1/4 scale: both sides still at least 600
    assert budget.peak == 1000 * 750 * work.BYTES_PER_PIXEL


async def test_one_piece_of_work_never_holds_more_than_the_budget(
    budget: work.PixelMemory,
) -> None:
    picture = png(2000, 2000)  # 30.5 MB: two fit in 64 MB, a third does not

    def three() -> None:
        for _ in range(3):
            images.decode(picture)

    with pytest.raises(ImageTooCostly, match="with the images before it, this one needs 92 MB"):
        await work.run(three)
    assert budget.peak == 2 * 2000 * 2000 * work.BYTES_PER_PIXEL
    assert budget.in_use == 0
