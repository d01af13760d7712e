import json
from pathlib import Path

import pytest

from plait.providers import catalog


def test_shipped_catalog_has_the_documented_models() -> None:
    current = catalog.load()
    assert current.default == "gemini-2.5-flash-image"
    ids = [m.id for m in current.models]
    assert ids == [
        "gemini-2.5-flash-image",
        "gemini-3.1-flash-image",
        "gemini-3-pro-image",
        "gemini-nano-banana-2.1",
        "gemini-3.1-flash-lite-image",
    ]
    assert current.get("gemini-2.5-flash-image").label == "Gemini 2.5 Flash Image (Nano Banana)"
    assert current.get("gemini-3-pro-image").label == "Gemini 3 Pro Image (Nano Banana Pro)"


def test_model_facts() -> None:
    current = catalog.load()
    flash = current.get("gemini-2.5-flash-image")
    assert len(flash.aspect_ratios) == 10
    assert flash.sizes == {}
    assert flash.image_price(None) == 0.039
    nb2 = current.get("gemini-3.1-flash-image")
    assert len(nb2.aspect_ratios) == 14
    assert {"1:4", "4:1", "1:8", "8:1"} <= set(nb2.aspect_ratios)
    assert list(nb2.sizes) == ["512", "1K", "2K", "4K"]
    assert nb2.max_references == 14
    pro = current.get("gemini-3-pro-image")
    assert (pro.image_price("1K"), pro.image_price("2K"), pro.image_price("4K")) == (
        0.134,
        0.134,
        0.24,
    )
    assert pro.image_price("4K", "batch") == 0.12
    assert list(current.get("gemini-3.1-flash-lite-image").sizes) == ["1K"]


@pytest.mark.parametrize(
    ("model", "ratio", "size", "pixels"),
    [
        ("gemini-2.5-flash-image", "1:1", None, (1024, 1024)),
        ("gemini-2.5-flash-image", "21:9", None, (1536, 672)),
        ("gemini-3-pro-image", "16:9", "4K", (5504, 3072)),
        ("gemini-3-pro-image", "1:1", None, (1024, 1024)),
        ("gemini-3.1-flash-image", "1:8", "2K", (768, 6144)),
    ],
)
def test_pixel_sizes(model: str, ratio: str, size: str | None, pixels: tuple[int, int]) -> None:
    assert catalog.load().get(model).pixel_size(ratio, size) == pixels


def test_retired_preview_ids_resolve_to_their_successor() -> None:
    assert catalog.load().get("gemini-3-pro-image-preview").id == "gemini-3-pro-image"


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(
        catalog.UnknownModel, match=r"unknown model 'x'; the catalog has: gemini-2\.5"
    ):
        catalog.load().get("x")


def test_a_user_file_adds_and_replaces_models(tmp_path: Path) -> None:
    base = catalog.load().get("gemini-2.5-flash-image").model_dump()
    custom = base | {"id": "my-proxy-model", "label": "Proxy", "aliases": []}
    cheaper = base | {"price_per_image": {"standard": {"1K": 0.01}, "batch": {"1K": 0.005}}}
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [custom, cheaper]}))
    merged = catalog.load(path)
    assert merged.get("my-proxy-model").label == "Proxy"
    assert merged.get("gemini-2.5-flash-image").image_price(None) == 0.01
    assert merged.default == "gemini-2.5-flash-image"
    assert len(merged.models) == 6


def test_a_broken_user_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text("{not json")
    with pytest.raises(catalog.CatalogError, match="cannot read the model catalog"):
        catalog.load(path)
