"""The Gemini provider, driving the real SDK over HTTP against the fake Gemini."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
from PIL import Image

from plait.providers import catalog
from plait.providers.base import ImagePart, ImageRequest, Part, TextPart
from plait.providers.gemini import GeminiProvider
from tests.fakes.gemini import FakeGemini, png

KEY = "test-key-7f3a"


async def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"a successful call should not wait ({seconds} s)")


@pytest.fixture
async def provider(gemini_fake: FakeGemini) -> AsyncIterator[GeminiProvider]:
    gemini = GeminiProvider(KEY, gemini_fake.base_url, sleep=_no_sleep)
    yield gemini
    await gemini.aclose()


def _reference(i: int) -> bytes:
    return png(8 + i, 8, (10 * i, 100, 200))


def _parts(prompt: str, references: int) -> tuple[Part, ...]:
    parts: list[Part] = [TextPart(prompt)]
    for i in range(references):
        parts += [TextPart(f"caption {i}:"), ImagePart(_reference(i), "image/png")]
    return tuple(parts)


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


@pytest.mark.parametrize("references", [0, 1, 3])
async def test_parts_are_the_prompt_then_caption_image_pairs_in_order(
    provider: GeminiProvider, gemini_fake: FakeGemini, references: int
) -> None:
    request = ImageRequest("gemini-2.5-flash-image", _parts("a poster", references))

    await provider.generate(request)

    (sent,) = gemini_fake.requests
    expected: list[dict[str, object]] = [{"text": "a poster"}]
    for i in range(references):
        expected += [{"text": f"caption {i}:"}, {"image": _reference(i), "mime_type": "image/png"}]
    assert sent.parts() == expected
    assert [c["role"] for c in sent.body["contents"]] == ["user"]


async def test_image_media_types_are_sent_as_given(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    jpeg = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(jpeg, "JPEG")
    parts = (TextPart("edit"), TextPart("this:"), ImagePart(jpeg.getvalue(), "image/jpeg"))

    await provider.generate(ImageRequest("gemini-2.5-flash-image", parts))

    assert gemini_fake.requests[0].parts()[2] == {
        "image": jpeg.getvalue(),
        "mime_type": "image/jpeg",
    }


async def test_the_model_is_in_the_path_and_the_key_in_its_header(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    await provider.generate(ImageRequest("gemini-3-pro-image", _parts("x", 0)))

    (sent,) = gemini_fake.requests
    assert sent.method == "POST"
    assert sent.path == "/v1beta/models/gemini-3-pro-image:generateContent"
    assert sent.headers["x-goog-api-key"] == KEY
    assert sent.headers["x-server-timeout"] == "120"  # the per-attempt deadline, for Google
    assert "key" not in sent.query


async def test_a_retired_preview_id_is_sent_as_its_ga_model(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    await provider.generate(ImageRequest("gemini-3-pro-image-preview", _parts("x", 0)))

    assert gemini_fake.requests[0].model == "gemini-3-pro-image"


@pytest.mark.parametrize(
    ("model", "ratio", "size", "pixels"),
    [
        ("gemini-2.5-flash-image", "21:9", None, (1536, 672)),
        ("gemini-3.1-flash-image", "16:9", "2K", (2752, 1536)),
        ("gemini-3.1-flash-image", "8:1", "512", (1536, 192)),
        ("gemini-3-pro-image", "1:1", "4K", (4096, 4096)),
        ("gemini-3.1-flash-lite-image", "3:4", "1K", (896, 1200)),
    ],
)
async def test_aspect_ratio_and_size_are_sent_and_the_image_has_their_pixels(
    provider: GeminiProvider,
    gemini_fake: FakeGemini,
    model: str,
    ratio: str,
    size: str | None,
    pixels: tuple[int, int],
) -> None:
    request = ImageRequest(model, _parts("x", 0), aspect_ratio=ratio, image_size=size)

    result = await provider.generate(request)

    config = gemini_fake.requests[0].body["generationConfig"]
    expected = {"aspectRatio": ratio} if size is None else {"aspectRatio": ratio, "imageSize": size}
    assert config["imageConfig"] == expected
    assert config["responseModalities"] == ["TEXT", "IMAGE"]
    assert [_size(image.data) for image in result.images] == [pixels]
    assert catalog.current().get(model).pixel_size(ratio, size) == pixels
    assert result.images[0].media_type == "image/png"


async def test_response_modalities_come_from_the_request(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    request = ImageRequest("gemini-2.5-flash-image", _parts("x", 0), response_modalities=("IMAGE",))

    result = await provider.generate(request)

    assert gemini_fake.requests[0].body["generationConfig"]["responseModalities"] == ["IMAGE"]
    assert result.text == ""
    assert len(result.images) == 1


async def test_a_text_only_request_needs_no_image(provider: GeminiProvider) -> None:
    request = ImageRequest("gemini-2.5-flash-image", _parts("x", 0), response_modalities=("TEXT",))

    result = await provider.generate(request)

    assert (result.images, result.text) == ([], "Here is the image you asked for.")


async def test_usage_is_read_from_usage_metadata_and_priced_from_the_catalog(
    provider: GeminiProvider,
) -> None:
    # "a red fox" is 3 prompt tokens; the fake's 32-character text is 8 tokens and its
    # 2.5 Flash image 1300 tokens: $0.30, $2.50 and $30 per million respectively.
    result = await provider.generate(ImageRequest("gemini-2.5-flash-image", _parts("a red fox", 0)))

    assert (result.usage.input_tokens, result.usage.output_tokens) == (3, 1308)
    assert result.usage.cost_usd == pytest.approx((3 * 0.30 + 8 * 2.50 + 1300 * 30.0) / 1e6)
    assert result.backend == "gemini"
    assert result.text == "Here is the image you asked for."


async def test_reference_images_count_as_input_tokens(provider: GeminiProvider) -> None:
    result = await provider.generate(ImageRequest("gemini-3-pro-image", _parts("a red fox", 1)))

    # "a red fox" and "caption 0:" are 3 tokens each, an input image 258; the 1K Pro
    # image is 1117 output tokens.
    assert result.usage.input_tokens == 3 + 3 + 258
    assert result.usage.output_tokens == 8 + 1117
    assert result.usage.cost_usd == pytest.approx((264 * 2.0 + 8 * 12.0 + 1117 * 120.0) / 1e6)


async def test_without_usage_metadata_the_price_per_image_is_charged(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    gemini_fake.usage = False
    request = ImageRequest("gemini-3-pro-image", _parts("x", 0), image_size="4K")

    result = await provider.generate(request)

    assert (result.usage.input_tokens, result.usage.output_tokens) == (0, 0)
    assert result.usage.cost_usd == pytest.approx(0.24)


async def test_interim_thought_images_are_not_outputs(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    request = ImageRequest("gemini-3-pro-image", _parts("a lighthouse", 0))
    plain = await provider.generate(request)
    gemini_fake.thought_images = 2

    thinking = await provider.generate(request)

    assert len(gemini_fake.requests) == 2
    assert [i.data for i in thinking.images] == [i.data for i in plain.images]


async def test_the_same_request_gives_the_same_image_and_another_prompt_another(
    provider: GeminiProvider,
) -> None:
    first = await provider.generate(ImageRequest("gemini-2.5-flash-image", _parts("cat", 0)))
    again = await provider.generate(ImageRequest("gemini-2.5-flash-image", _parts("cat", 0)))
    other = await provider.generate(ImageRequest("gemini-2.5-flash-image", _parts("dog", 0)))

    assert first.images[0].data == again.images[0].data != other.images[0].data


@pytest.mark.parametrize("environment", [None, "v1", "beta"])
async def test_calls_go_to_v1beta_whatever_the_sdk_default_or_environment(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch, environment: str | None
) -> None:
    # google-genai 3.x calls v1 by default (GOOGLE_GENAI_API_VERSION may say otherwise);
    # Google documents image generation, batches and files on v1beta: Plait pins it.
    if environment is None:
        monkeypatch.delenv("GOOGLE_GENAI_API_VERSION", raising=False)
    else:
        monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", environment)
    gemini = GeminiProvider(KEY, gemini_fake.base_url)

    result = await gemini.generate(ImageRequest("gemini-2.5-flash-image", _parts("x", 0)))
    await gemini.aclose()

    assert gemini_fake.requests[0].path == "/v1beta/models/gemini-2.5-flash-image:generateContent"
    assert gemini_fake.requests[0].api_version == "v1beta"
    assert len(result.images) == 1


async def test_an_unknown_model_fails_before_any_call(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    with pytest.raises(catalog.UnknownModel, match="unknown model 'gemini-9'"):
        await provider.generate(ImageRequest("gemini-9", _parts("x", 0)))

    assert gemini_fake.requests == []


async def test_without_a_ratio_none_is_sent_and_the_answer_keeps_the_inputs_shape(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    parts = (TextPart("edit"), ImagePart(png(1600, 900, (1, 2, 3)), "image/png"))

    result = await provider.generate(ImageRequest("gemini-3-pro-image", parts, None, "1K"))

    assert gemini_fake.requests[0].image_config() == {"imageSize": "1K"}
    model = catalog.current().get("gemini-3-pro-image")
    assert [_size(i.data) for i in result.images] == [model.pixel_size("16:9", "1K")]
