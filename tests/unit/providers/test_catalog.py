import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from plait.providers import catalog


def test_shipped_catalog_has_the_documented_models() -> None:
    current = catalog.load()
    assert current.default == "gemini-nano-banana-2.1"
    assert [m.id for m in current.models] == [
        "gemini-nano-banana-2.1",
        "gemini-3.1-flash-lite-image",
        "gemini-3-pro-image",
        "gemini-2.5-flash-image",
        "gemini-3.1-flash-image",
    ]
    labels = {m.id: m.label for m in current.models}
    assert labels["gemini-2.5-flash-image"] == "Gemini 2.5 Flash Image (Nano Banana)"
    assert labels["gemini-3-pro-image"] == "Gemini 3 Pro Image (Nano Banana Pro)"
    assert all("Nano Banana" in label for label in labels.values())


def test_the_shipped_catalog_is_consistent() -> None:
    assert catalog.consistency_problems(catalog.load()) == []


def test_lifecycles_as_read_in_december_2026() -> None:
    current = catalog.load()
    old = current.get("gemini-2.5-flash-image")
    assert (old.lifecycle, old.successor, old.shutdown) == (
        "deprecated",
        "gemini-3.1-flash-lite-image",
        date(2027, 3, 15),
    )
    nb2 = current.get("gemini-3.1-flash-image")
    assert (nb2.lifecycle, nb2.successor, nb2.deprecated, nb2.shutdown) == (
        "shut_down",
        "gemini-nano-banana-2.1",
        date(2026, 10, 6),
        date(2026, 10, 29),
    )
    assert current.get("gemini-nano-banana-2.1").lifecycle == "ga"
    assert current.get("gemini-3.1-flash-lite-image").lifecycle == "ga"


def test_model_facts() -> None:
    current = catalog.load()
    nb21 = current.get("gemini-nano-banana-2.1")
    assert list(nb21.sizes) == ["1K", "2K", "4K"]  # no 512: Google answers 400
    assert len(nb21.aspect_ratios) == 14
    assert nb21.max_references == 14
    assert nb21.image_price("1K") == 0.0336
    assert nb21.price_per_million_tokens.output_image == 30.0
    lite = current.get("gemini-3.1-flash-lite-image")
    assert list(lite.sizes) == ["1K"]
    assert (lite.image_price(None), lite.image_price(None, "batch")) == (0.0336, 0.0168)
    pro = current.get("gemini-3-pro-image")
    assert len(pro.aspect_ratios) == 10
    assert (pro.image_price("1K"), pro.image_price("2K"), pro.image_price("4K")) == (
        0.134,
        0.134,
        0.24,
    )
    assert pro.image_price("4K", "batch") == 0.12
    old = current.get("gemini-2.5-flash-image")
    assert old.sizes == {}
    assert old.image_price(None) == 0.039


def test_every_fact_names_its_source_page_and_date() -> None:
    for model in catalog.load().models:
        assert set(model.sources) == set(catalog.FACTS), model.id
        for source in model.sources.values():
            assert source.url.startswith("https://ai.google.dev/gemini-api/docs/")
            assert source.read == date(2026, 12, 7)


@pytest.mark.parametrize(
    ("model", "ratio", "size", "pixels"),
    [
        ("gemini-2.5-flash-image", "1:1", None, (1024, 1024)),
        ("gemini-2.5-flash-image", "21:9", None, (1536, 672)),
        ("gemini-3-pro-image", "16:9", "4K", (5504, 3072)),
        ("gemini-3-pro-image", "1:1", None, (1024, 1024)),
        ("gemini-nano-banana-2.1", "1:8", "2K", (768, 6144)),
    ],
)
def test_pixel_sizes(model: str, ratio: str, size: str | None, pixels: tuple[int, int]) -> None:
    assert catalog.load().get(model).pixel_size(ratio, size) == pixels


def test_preview_ids_resolve_to_their_ga_successor() -> None:
    current = catalog.load()
    assert current.get("gemini-3-pro-image-preview").id == "gemini-3-pro-image"
    assert current.get("gemini-2.5-flash-image-preview").id == "gemini-2.5-flash-image"
    with pytest.raises(catalog.UnknownModel):  # never existed
        current.get("gemini-3.1-flash-lite-image-preview")


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(
        catalog.UnknownModel, match=r"unknown model 'x'; the catalog has: gemini-nano-banana-2\.1"
    ):
        catalog.load().get("x")


def test_lifecycle_messages_name_dates_and_successor() -> None:
    current = catalog.load()
    assert current.get("gemini-2.5-flash-image").lifecycle_warning() == (
        "gemini-2.5-flash-image was deprecated by Google on 2026-09-18; Google shuts it down "
        "on 2027-03-15; switch to gemini-3.1-flash-lite-image"
    )
    assert current.get("gemini-nano-banana-2.1").lifecycle_warning() is None
    assert current.get("gemini-3.1-flash-image").shut_down_message() == (
        "gemini-3.1-flash-image was shut down by Google on 2026-10-29 and no longer runs; "
        "switch the node to its successor, gemini-nano-banana-2.1"
    )


# --- the consistency check finds each kind of contradiction ---------------------------


def _broken(**changes: Any) -> catalog.Catalog:
    data = json.loads(catalog.load().model_dump_json())
    target = next(m for m in data["models"] if m["id"] == "gemini-nano-banana-2.1")
    for key, value in changes.items():
        target[key] = value
    return catalog.Catalog.model_validate(data)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"lifecycle": "deprecated", "deprecated": "2026-11-01", "successor": "nope"},
            "gemini-nano-banana-2.1: its successor 'nope' is not in the catalog",
        ),
        (
            {"lifecycle": "shut_down", "shutdown": "2026-11-01", "successor": None},
            "gemini-nano-banana-2.1: is shut_down but names no successor",
        ),
        (
            {"sizes": {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}},
            "gemini-nano-banana-2.1: size '512' has no standard price",
        ),
        (
            {
                "price_per_image": {
                    "standard": {"1K": 0.0336, "2K": 0.0504, "4K": 0.0756},
                    "batch": {"1K": 0.0336, "2K": 0.0252, "4K": 0.0378},
                }
            },
            "gemini-nano-banana-2.1: batch price for '1K' is not half the standard 0.0336",
        ),
        (
            {"sizes": {"1K": 1, "2K": 0, "4K": 4}},
            "gemini-nano-banana-2.1: size '2K' has no pixel scale",
        ),
        ({"default_size": "8K"}, "gemini-nano-banana-2.1: its default size '8K' is not one"),
        ({"sources": {}}, "gemini-nano-banana-2.1: no source for its prices"),
        (
            {
                "lifecycle": "deprecated",
                "deprecated": "2026-11-01",
                "shutdown": "2026-12-01",
                "successor": "gemini-3-pro-image",
            },
            "its shutdown date 2026-12-01 had passed when checked (2026-12-07)",
        ),
        (
            {"aliases": ["gemini-3-pro-image-preview"]},
            "'gemini-3-pro-image-preview' names more than one model",
        ),
    ],
)
def test_the_consistency_check_finds(changes: dict[str, Any], problem: str) -> None:
    problems = catalog.consistency_problems(_broken(**changes))
    assert any(problem in p for p in problems), problems


def test_the_consistency_check_refuses_a_default_that_does_not_run() -> None:
    broken = _broken(lifecycle="shut_down", shutdown="2026-11-01", successor="gemini-3-pro-image")
    assert "the default 'gemini-nano-banana-2.1' is shut_down" in catalog.consistency_problems(
        broken
    )


def test_a_user_file_adds_and_replaces_models(tmp_path: Path) -> None:
    base = catalog.load().get("gemini-3-pro-image").model_dump(mode="json")
    custom = base | {"id": "my-proxy-model", "label": "Proxy", "aliases": []}
    cheaper = base | {"price_per_image": {"standard": {"1K": 0.01}, "batch": {"1K": 0.005}}}
    path = tmp_path / "models.json"
    path.write_text(json.dumps({"models": [custom, cheaper]}))
    merged = catalog.load(path)
    assert merged.get("my-proxy-model").label == "Proxy"
    assert merged.get("gemini-3-pro-image").image_price("1K") == 0.01
    assert merged.default == "gemini-nano-banana-2.1"
    assert len(merged.models) == 6


def test_a_broken_user_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "models.json"
    path.write_text("{not json")
    with pytest.raises(catalog.CatalogError, match="cannot read the model catalog"):
        catalog.load(path)


def _docs_row(text: str, model_id: str, after: str) -> str:
    """The row of `model_id` in the docs table that follows the line `after`."""
    table = text[text.index(after) :]
    return next(line for line in table.splitlines() if line.startswith(f"| `{model_id}` |"))


def test_docs_models_md_lists_every_model_with_lifecycle_prices_and_sources() -> None:
    from tests.helpers import ROOT

    text = (ROOT / "docs" / "models.md").read_text()
    shipped = catalog.load()
    for model in shipped.models:
        facts = _docs_row(text, model.id, "## The models")
        lifecycle = {"ga": "GA", "deprecated": "deprecated", "shut_down": "shut down"}
        assert lifecycle[model.lifecycle] in facts, model.id
        for when in (model.deprecated, model.shutdown):
            assert when is None or when.isoformat() in facts, (model.id, when)
        assert model.successor is None or f"`{model.successor}`" in facts, model.id
        standard = model.price_per_image["standard"]
        if model.runs:  # a shut-down model's prices are historic: one is enough
            for size, price in standard.items():
                assert f"{price:g}" in facts, (model.id, size, price)
                assert f"{model.price_per_image['batch'][size]:g}" in facts, (model.id, size)
        sources = _docs_row(text, model.id, "Where each model's facts were read")
        for source in model.sources.values():
            page = str(source.url).removeprefix("https://ai.google.dev/gemini-api")
            assert f"`…{page}` ({source.read.isoformat()})" in sources, (model.id, page)
    assert "## How the catalog is kept true" in text
