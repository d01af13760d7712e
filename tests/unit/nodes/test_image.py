from pathlib import Path
from typing import Any

import pytest

from plait.engine.context import Services
from plait.engine.executor import Executor
from plait.engine.state import RunStatus
from plait.flows.validate import compile_flow
from plait.media.blobs import LocalBlobStore
from plait.media.image_ref import ImageRef
from plait.nodes.registry import builtin
from plait.providers.base import ImagePart, ImageRequest, ImageResult, TextPart, Usage
from tests.helpers import flow, node, open_image, png
from tests.unit.nodes.conftest import RecordingProvider


def shape(parts: tuple[object, ...]) -> list[str]:
    return [p.text if isinstance(p, TextPart) else f"<{p.media_type}>" for p in parts]  # type: ignore[attr-defined]


async def test_prompt_only(run_flow: Any, provider: RecordingProvider) -> None:
    result = await run_flow(flow([node("img", "image", prompt="a red apple")]))
    assert result.status == RunStatus.SUCCEEDED
    [request] = provider.requests
    assert shape(request.parts) == ["a red apple"]
    assert (request.model, request.aspect_ratio, request.image_size) == (
        "gemini-nano-banana-2.1",
        None,  # auto: no ratio is sent; without a reference Gemini makes a square
        "1K",
    )
    assert request.response_modalities == ("TEXT", "IMAGE")
    out = result.nodes["img"].outputs
    assert isinstance(out["image"], ImageRef)
    assert (out["image"].width, out["image"].height) == (1024, 1024)
    assert out["images"] == [out["image"]]
    assert result.nodes["img"].backend == "preview"


async def test_one_reference_from_a_port_is_an_edit(
    run_flow: Any, provider: RecordingProvider, tmp_path: Path
) -> None:
    (tmp_path / "p.png").write_bytes(png(40, 30))
    f = flow(
        [
            node("photo", "file_input", path="p.png"),
            node(
                "img",
                "image",
                prompt="make it blue",
                references=[{"port": "src", "caption": "The photo:"}],
            ),
        ],
        [("photo.image", "img.src")],
    )
    result = await run_flow(f)
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert shape(provider.requests[0].parts) == ["make it blue", "The photo:", "<image/png>"]
    part = provider.requests[0].parts[2]
    assert isinstance(part, ImagePart)
    assert open_image(part.data).size == (40, 30)


async def test_three_captioned_references_keep_their_order(
    run_flow: Any, provider: RecordingProvider, tmp_path: Path
) -> None:
    colors = {"a": (255, 0, 0), "b": (0, 255, 0), "c": (0, 0, 255)}
    for name, color in colors.items():
        (tmp_path / f"{name}.png").write_bytes(png(8, 8, color))
    refs = [{"port": n, "caption": f"Image {n}:", "file": f"{n}.png"} for n in "abc"]
    result = await run_flow(flow([node("img", "image", prompt="combine", references=refs)]))
    assert result.status == RunStatus.SUCCEEDED, result.error
    parts = provider.requests[0].parts
    assert shape(parts) == [
        "combine",
        "Image a:",
        "<image/png>",
        "Image b:",
        "<image/png>",
        "Image c:",
        "<image/png>",
    ]
    sent = [open_image(p.data).getpixel((0, 0)) for p in parts if isinstance(p, ImagePart)]
    assert sent == list(colors.values())


async def test_caption_templates_and_uncaptioned_references(
    run_flow: Any, provider: RecordingProvider, tmp_path: Path
) -> None:
    (tmp_path / "a.png").write_bytes(png(8, 8))
    f = flow(
        [
            node("t", "http_trigger", fields=[{"name": "what"}]),
            node("img", "image", prompt="{{ t.what }} please", references=[
                {"port": "x", "caption": "the {{ t.what }}:", "file": "a.png"},
                {"port": "y", "file": "a.png"},
            ]),
        ]
    )  # fmt: skip
    result = await run_flow(f, {"what": "shoe"})
    assert result.status == RunStatus.SUCCEEDED, result.error
    assert shape(provider.requests[0].parts) == [
        "shoe please",
        "the shoe:",
        "<image/png>",
        "<image/png>",
    ]


@pytest.mark.parametrize(
    ("model", "ratio", "size", "expected"),
    [
        ("gemini-2.5-flash-image", "16:9", None, (1344, 768)),
        ("gemini-3-pro-image", "1:1", "2K", (2048, 2048)),
        ("gemini-nano-banana-2.1", "8:1", "4K", (12288, 1536)),
        ("gemini-3-pro-image-preview", "3:2", None, (1264, 848)),
    ],
)
async def test_model_ratio_and_size_reach_the_request_and_the_pixels(
    run_flow: Any,
    provider: RecordingProvider,
    model: str,
    ratio: str,
    size: str | None,
    expected: tuple[int, int],
) -> None:
    config: dict[str, Any] = {"prompt": "p", "model": model, "aspect_ratio": ratio}
    if size:
        config["image_size"] = size
    result = await run_flow(flow([node("img", "image", **config)]))
    assert result.status == RunStatus.SUCCEEDED, result.error
    request = provider.requests[0]
    assert request.aspect_ratio == ratio
    assert request.model == model.removesuffix("-preview")  # retired ids map to their successor
    assert request.image_size == (size or ("1K" if "pro" in model else None))
    image = result.nodes["img"].outputs["image"]
    assert (image.width, image.height) == expected


async def test_number_of_images(run_flow: Any, provider: RecordingProvider) -> None:
    result = await run_flow(flow([node("img", "image", prompt="p", number_of_images=3)]))
    assert len(provider.requests) == 3
    assert len(result.nodes["img"].outputs["images"]) == 3


async def test_missing_reference_file_fails_the_node(run_flow: Any) -> None:
    refs = [{"port": "a", "file": "missing.png"}]
    result = await run_flow(flow([node("img", "image", prompt="p", references=refs)]))
    assert result.status == RunStatus.FAILED
    assert result.failed_node == "img"
    assert "file not found" in (result.error or "")


async def test_an_empty_result_is_a_node_error(services: Services) -> None:
    from plait.engine.executor import Executor
    from plait.flows.validate import compile_flow
    from plait.nodes.registry import builtin
    from plait.providers.base import ImageRequest, ImageResult

    class NoImages:
        name = "gemini"
        model_list = None

        async def generate(self, request: ImageRequest) -> ImageResult:
            return ImageResult(images=[], text="I cannot draw that", backend="gemini")

        async def aclose(self) -> None:
            pass

    services.image_provider = NoImages
    compiled = compile_flow(flow([node("img", "image", prompt="p")]), builtin())
    result = await Executor(compiled, services, run_id="t").run()
    assert result.status == RunStatus.FAILED
    assert result.error == "gemini-nano-banana-2.1 returned no image; try rewording the prompt"


async def test_an_edit_with_the_default_ratio_sends_none_and_keeps_the_references_shape(
    run_flow: Any, provider: RecordingProvider, tmp_path: Path
) -> None:
    (tmp_path / "wide.png").write_bytes(png(320, 180))  # 16:9
    refs = [{"port": "photo", "file": "wide.png"}]
    result = await run_flow(flow([node("img", "image", prompt="make it blue", references=refs)]))

    assert result.status == RunStatus.SUCCEEDED, result.error
    assert provider.requests[0].aspect_ratio is None
    image = result.nodes["img"].outputs["image"]  # the preview mirrors Gemini: 2.1's 16:9
    assert (image.width, image.height) == (1376, 768)


@pytest.mark.parametrize(
    ("modalities", "sent"),
    [(["IMAGE"], ("IMAGE",)), (["IMAGE", "TEXT"], ("TEXT", "IMAGE")), (None, ("TEXT", "IMAGE"))],
)
async def test_response_modalities_always_hold_image(
    run_flow: Any,
    provider: RecordingProvider,
    modalities: list[str] | None,
    sent: tuple[str, ...],
) -> None:
    config: dict[str, Any] = {"prompt": "p"}
    if modalities is not None:
        config["response_modalities"] = modalities
    result = await run_flow(flow([node("img", "image", **config)]))

    assert result.status == RunStatus.SUCCEEDED, result.error
    assert provider.requests[0].response_modalities == sent


def test_text_alone_is_refused_naming_the_field() -> None:
    from plait.errors import FlowInvalid
    from plait.flows.validate import compile_flow
    from plait.nodes.registry import builtin

    with pytest.raises(FlowInvalid) as caught:
        compile_flow(
            flow([node("img", "image", prompt="p", response_modalities=["TEXT"])]), builtin()
        )

    [problem] = caught.value.problems
    assert (problem.node_id, problem.field) == ("img", "response_modalities")
    assert "always asks for an image: keep IMAGE (TEXT is optional)" in problem.message


def test_the_stored_defaults_are_explicit_in_the_schema() -> None:
    from plait.nodes.image import ImageConfig

    properties = ImageConfig.model_json_schema()["properties"]
    assert properties["response_modalities"]["default"] == ["TEXT", "IMAGE"]
    assert properties["aspect_ratio"]["default"] == "auto"


async def test_an_edit_sends_no_aspect_ratio_to_gemini_and_gets_its_inputs_shape(
    services: Services, gemini_fake: Any, tmp_path: Path
) -> None:
    from plait.engine.executor import Executor
    from plait.flows.validate import compile_flow
    from plait.nodes.registry import builtin
    from plait.providers.gemini import GeminiProvider

    gemini = GeminiProvider("test-key-7f3a", gemini_fake.base_url)
    services.image_provider = lambda: gemini
    (tmp_path / "tall.png").write_bytes(png(90, 160))  # 9:16
    refs = [{"port": "photo", "caption": "this photo:", "file": "tall.png"}]
    compiled = compile_flow(flow([node("img", "image", prompt="p", references=refs)]), builtin())

    result = await Executor(compiled, services, run_id="t").run()
    await gemini.aclose()

    assert result.status == RunStatus.SUCCEEDED, result.error
    [sent] = gemini_fake.generate_requests()
    assert "aspectRatio" not in sent.image_config()
    image = result.nodes["img"].outputs["image"]  # the run record: the size Gemini returned
    assert (image.width, image.height) == (768, 1376)


@pytest.mark.parametrize("prompt", ["", "   "])
async def test_a_blank_prompt_from_upstream_fails_as_the_flows_input(
    run_flow: Any, provider: RecordingProvider, prompt: str
) -> None:
    f = flow(
        [
            node("trigger", "http_trigger", fields=[{"name": "p", "required": False}]),
            node("img", "image", prompt="{{ trigger.p }}"),
        ]
    )

    result = await run_flow(f, {"p": prompt})

    assert result.status == RunStatus.FAILED
    assert provider.requests == []
    state = result.nodes["img"]
    assert (state.error_port, state.error_category) == ("prompt", "input")
    assert state.error == "the prompt is empty: type one, or send text to what it is wired to"


def test_a_blank_prompt_in_the_config_is_a_missing_input() -> None:
    from plait.errors import FlowInvalid
    from plait.flows.validate import compile_flow
    from plait.nodes.registry import builtin

    with pytest.raises(FlowInvalid) as caught:
        compile_flow(flow([node("img", "image", prompt="  \n")]), builtin())

    [problem] = caught.value.problems
    assert (problem.node_id, problem.port) == ("img", "prompt")
    assert "required input is not set" in problem.message


async def test_a_heic_reference_is_sent_to_gemini_as_heic(
    services: Services, gemini_fake: Any, tmp_path: Path
) -> None:
    from plait.engine.executor import Executor
    from plait.flows.validate import compile_flow
    from plait.nodes.registry import builtin
    from plait.providers import catalog
    from plait.providers.gemini import GeminiProvider
    from tests.helpers import HEIC_PHOTO

    gemini = GeminiProvider("test-key-7f3a", gemini_fake.base_url)
    services.image_provider = lambda: gemini
    (tmp_path / "photo.heic").write_bytes(HEIC_PHOTO.read_bytes())
    refs = [{"port": "photo", "caption": "this photo:", "file": "photo.heic"}]
    compiled = compile_flow(flow([node("img", "image", prompt="p", references=refs)]), builtin())

    result = await Executor(compiled, services, run_id="t").run()
    await gemini.aclose()

    assert result.status == RunStatus.SUCCEEDED, result.error
    [sent] = gemini_fake.generate_requests()
    assert sent.parts()[2] == {"image": HEIC_PHOTO.read_bytes(), "mime_type": "image/heic"}
    image = result.nodes["img"].outputs["image"]  # 64 x 48 kept as 4:3
    model = catalog.current().get("gemini-nano-banana-2.1")
    assert (image.width, image.height) == model.pixel_size("4:3", "1K")


async def test_the_preview_shows_a_heic_reference(
    run_flow: Any, provider: RecordingProvider, tmp_path: Path
) -> None:
    from tests.helpers import HEIC_PHOTO

    (tmp_path / "photo.heic").write_bytes(HEIC_PHOTO.read_bytes())
    refs = [{"port": "photo", "file": "photo.heic"}]
    result = await run_flow(flow([node("img", "image", prompt="p", references=refs)]))

    assert result.status == RunStatus.SUCCEEDED, result.error
    part = provider.requests[0].parts[1]
    assert isinstance(part, ImagePart)
    assert part.media_type == "image/heic"


async def test_a_reference_file_that_is_no_image_fails_as_the_flows_input(
    run_flow: Any, provider: RecordingProvider, tmp_path: Path
) -> None:
    (tmp_path / "notes.png").write_text("not an image")
    refs = [{"port": "a", "file": "notes.png"}]

    result = await run_flow(flow([node("img", "image", prompt="edit", references=refs)]))

    assert result.status == RunStatus.FAILED
    assert provider.requests == []
    state = result.nodes["img"]
    assert state.error_category == "input"  # a published caller gets 422, not 500
    assert state.error.endswith("notes.png is not a PNG, JPEG, WebP, HEIC or HEIF image")


class NoImageProvider(RecordingProvider):
    async def generate(self, request: ImageRequest) -> ImageResult:
        self.requests.append(request)
        return ImageResult(images=[], text="", usage=Usage(), backend=self.name)


async def test_an_answer_without_an_image_is_the_providers_bad_answer(tmp_path: Path) -> None:
    provider = NoImageProvider()
    services = Services(LocalBlobStore(tmp_path / "blobs"), lambda: provider, tmp_path)
    compiled = compile_flow(flow([node("img", "image", prompt="a cat")]), builtin())

    result = await Executor(compiled, services, run_id="t").run()

    state = result.nodes["img"]
    assert state.error == "gemini-nano-banana-2.1 returned no image; try rewording the prompt"
    assert state.error_category == "bad_answer"  # a published caller gets 502, not 500
