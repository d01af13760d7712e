"""Image Resize, Text Overlay and File Input as nodes in a run, on real images."""

from pathlib import Path
from typing import Any

import pytest
from PIL import ImageChops

from plait.engine.context import Services
from plait.engine.state import RunStatus
from plait.media.image_ref import ImageRef
from tests.helpers import flow, node, open_image, png


async def output_image(services: Services, ref: ImageRef) -> Any:
    return open_image(await services.blobs.get(ref.sha256))


@pytest.mark.parametrize(
    ("config", "size"),
    [
        ({"width": 100}, (100, 50)),
        ({"height": 100}, (200, 100)),
        ({"width": 100, "height": 100, "fit": "contain"}, (100, 50)),
        ({"width": 100, "height": 100, "fit": "cover"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "fill"}, (100, 100)),
        ({"width": 100, "height": 100, "fit": "pad"}, (100, 100)),
    ],
)
async def test_resize_sizes(
    run_flow: Any, services: Services, tmp_path: Path, config: dict[str, Any], size: tuple[int, int]
) -> None:
    (tmp_path / "in.png").write_bytes(png(400, 200))
    f = flow(
        [node("in", "file_input", path="in.png"), node("r", "image_resize", **config)],
        [("in.image", "r.image")],
    )
    result = await run_flow(f)
    assert result.status == RunStatus.SUCCEEDED, result.error
    ref = result.nodes["r"].outputs["image"]
    assert (ref.width, ref.height) == size
    assert (await output_image(services, ref)).size == size


async def test_pad_fills_with_the_pad_colour(
    run_flow: Any, services: Services, tmp_path: Path
) -> None:
    (tmp_path / "in.png").write_bytes(png(400, 200, (255, 0, 0)))
    f = flow(
        [node("in", "file_input", path="in.png"),
         node("r", "image_resize", width=100, height=100, fit="pad", pad_color="#00ff00")],
        [("in.image", "r.image")],
    )  # fmt: skip
    img = (await output_image(services, (await run_flow(f)).nodes["r"].outputs["image"])).convert(
        "RGB"
    )
    assert img.getpixel((50, 5)) == (0, 255, 0)  # padding above
    assert img.getpixel((50, 50)) == (255, 0, 0)  # the picture


@pytest.mark.parametrize(("fmt", "pil"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")])
async def test_resize_output_formats(
    run_flow: Any, services: Services, tmp_path: Path, fmt: str, pil: str
) -> None:
    (tmp_path / "in.png").write_bytes(png(64, 64))
    f = flow(
        [
            node("in", "file_input", path="in.png"),
            node("r", "image_resize", width=32, format=fmt, quality=70),
        ],
        [("in.image", "r.image")],
    )
    ref = (await run_flow(f)).nodes["r"].outputs["image"]
    assert ref.media_type == f"image/{fmt}"
    assert (await output_image(services, ref)).format == pil


async def test_overlay_text_stays_inside_its_box(
    run_flow: Any, services: Services, tmp_path: Path
) -> None:
    (tmp_path / "in.png").write_bytes(png(400, 300, (20, 20, 20)))
    layer = {
        "text": "{{ t.headline }}", "size": 200, "min_size": 8, "anchor": "top-left",
        "x": 0.1, "y": 0.2, "box_width": 0.5, "box_height": 0.25, "color": "#ffffff",
    }  # fmt: skip
    f = flow(
        [node("t", "http_trigger", fields=[{"name": "headline"}]),
         node("in", "file_input", path="in.png"),
         node("o", "text_overlay", layers=[layer])],
        [("in.image", "o.image")],
    )  # fmt: skip
    result = await run_flow(f, {"headline": "A rather long headline that must wrap and shrink"})
    assert result.status == RunStatus.SUCCEEDED, result.error
    out = (await output_image(services, result.nodes["o"].outputs["image"])).convert("RGB")
    changed = ImageChops.difference(out, open_image(png(400, 300, (20, 20, 20)))).getbbox()
    assert changed is not None
    left, top, right, bottom = changed
    assert (left, top) >= (40, 60)
    assert right <= 40 + 200
    assert bottom <= 60 + 75


async def test_file_input_paths_are_relative_to_the_flow(run_flow: Any, tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(png(10, 20))
    result = await run_flow(flow([node("in", "file_input", path="pics/a.png")]))
    ref = result.nodes["in"].outputs["image"]
    assert (ref.width, ref.height, ref.media_type) == (10, 20, "image/png")


async def test_file_input_from_an_uploaded_blob(run_flow: Any, services: Services) -> None:
    sha = await services.blobs.put(png(7, 9))
    result = await run_flow(flow([node("in", "file_input", blob=sha)]))
    assert result.nodes["in"].outputs["image"].sha256 == sha


def test_file_input_needs_a_source() -> None:
    from plait.nodes.file_input import FileInputConfig

    with pytest.raises(ValueError, match="set 'path'"):
        FileInputConfig.model_validate({})
