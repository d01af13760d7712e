import pytest

from plait.providers import catalog
from plait.providers.base import ImagePart, ImageRequest, TextPart
from plait.providers.preview import PreviewProvider
from tests.helpers import open_image, png


@pytest.mark.parametrize("model", [m.id for m in catalog.load().models])
async def test_every_ratio_and_size_renders_at_the_model_pixel_size(model: str) -> None:
    info = catalog.load().get(model)
    provider = PreviewProvider()
    for ratio in info.aspect_ratios:
        sizes: list[str | None] = [*list(info.sizes)[:2]] or [None]
        for size in sizes:
            result = await provider.generate(ImageRequest(model, (TextPart("p"),), ratio, size))
            [image] = result.images
            assert open_image(image.data).size == info.pixel_size(ratio, size), (ratio, size)


async def test_result_is_a_free_preview_png() -> None:
    result = await PreviewProvider().generate(
        ImageRequest("gemini-2.5-flash-image", (TextPart("p"),))
    )
    assert result.backend == "preview"
    assert (result.usage.input_tokens, result.usage.output_tokens, result.usage.cost_usd) == (
        0,
        0,
        0,
    )
    assert result.images[0].media_type == "image/png"
    assert open_image(result.images[0].data).format == "PNG"


async def test_references_appear_as_thumbnails_in_order() -> None:
    red, blue = png(64, 64, (255, 0, 0)), png(64, 64, (0, 0, 255))
    parts = (
        TextPart("combine"),
        TextPart("first"),
        ImagePart(red, "image/png"),
        TextPart("second"),
        ImagePart(blue, "image/png"),
    )
    result = await PreviewProvider().generate(ImageRequest("gemini-2.5-flash-image", parts, "16:9"))
    img = open_image(result.images[0].data).convert("RGB")
    width, height = img.size
    lower = img.crop((0, height // 2, width, height))
    reds = [
        x
        for x in range(width)
        for y in range(0, lower.height, 8)
        if lower.getpixel((x, y)) == (255, 0, 0)
    ]
    blues = [
        x
        for x in range(width)
        for y in range(0, lower.height, 8)
        if lower.getpixel((x, y)) == (0, 0, 255)
    ]
    assert reds
    assert blues
    assert max(reds) < min(blues)  # the first reference is drawn left of the second


async def test_the_prompt_changes_the_picture() -> None:
    provider = PreviewProvider()
    one = await provider.generate(ImageRequest("gemini-2.5-flash-image", (TextPart("a cat"),)))
    two = await provider.generate(ImageRequest("gemini-2.5-flash-image", (TextPart("a dog"),)))
    same = await provider.generate(ImageRequest("gemini-2.5-flash-image", (TextPart("a cat"),)))
    assert one.images[0].data != two.images[0].data
    assert one.images[0].data == same.images[0].data


@pytest.mark.parametrize(
    ("reference", "ratio"),
    [((400, 300), "4:3"), ((300, 400), "3:4"), ((1000, 420), "21:9"), ((50, 50), "1:1")],
)
async def test_without_a_ratio_an_edit_keeps_its_first_references_shape(
    reference: tuple[int, int], ratio: str
) -> None:
    model = catalog.load().get("gemini-2.5-flash-image")
    parts = (
        TextPart("edit"),
        ImagePart(png(*reference), "image/png"),
        ImagePart(png(10, 40), "image/png"),  # only the first image sets the shape
    )

    result = await PreviewProvider().generate(ImageRequest(model.id, parts))

    assert open_image(result.images[0].data).size == model.pixel_size(ratio, None)


async def test_without_a_ratio_or_a_reference_the_preview_is_square() -> None:
    result = await PreviewProvider().generate(
        ImageRequest("gemini-3-pro-image", (TextPart("p"),), None, "1K")
    )

    assert open_image(result.images[0].data).size == (1024, 1024)
