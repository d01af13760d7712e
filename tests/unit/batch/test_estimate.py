"""The cost estimate: rows × images per row × the catalog's price per image."""

from __future__ import annotations

import pytest

from plait.batch.estimate import estimate
from plait.flows.validate import CompiledFlow, compile_flow
from plait.nodes.registry import builtin
from tests.helpers import flow, node


def _compiled(*images: dict[str, object]) -> CompiledFlow:
    nodes = [node("trigger", "http_trigger")]
    nodes += [node(f"image{i}", "image", prompt="x", **config) for i, config in enumerate(images)]
    return compile_flow(flow(nodes), builtin())


def test_each_image_node_counts_its_images_at_its_model_and_size() -> None:
    compiled = _compiled(
        {"model": "gemini-2.5-flash-image", "number_of_images": 2},
        {"model": "gemini-3-pro-image", "image_size": "4K"},
    )
    cost = estimate(compiled, 10, free=False)
    assert cost.images_per_row == 3
    assert cost.per_row_usd == pytest.approx(2 * 0.039 + 0.24)
    assert cost.total_usd == pytest.approx(10 * (2 * 0.039 + 0.24))
    assert "estimated cost: $3.18" in cost.describe()
    assert "image1: 1 × gemini-3-pro-image 4K at $0.240" in cost.describe()


def test_the_preview_backend_and_flows_without_images_are_free() -> None:
    preview = estimate(_compiled({"model": "gemini-2.5-flash-image"}), 5, free=True)
    assert (preview.total_usd, preview.images_per_row) == (0.0, 1)
    assert "preview backend: free" in preview.describe()
    none = estimate(_compiled(), 5, free=False)
    assert none.total_usd == 0.0
    assert "no Image node" in none.describe()


def test_the_batch_api_estimate_uses_the_catalogs_batch_prices() -> None:
    compiled = _compiled(
        {"model": "gemini-2.5-flash-image", "number_of_images": 2},
        {"model": "gemini-nano-banana-2.1", "image_size": "2K"},
    )
    cost = estimate(compiled, 10, free=False, tier="batch")
    assert cost.per_row_usd == pytest.approx(2 * 0.0195 + 0.0252)
    assert cost.total_usd == pytest.approx(estimate(compiled, 10, free=False).total_usd / 2)
    assert "at Gemini Batch API prices (half the standard)" in cost.describe()
    assert "image1: 1 × gemini-nano-banana-2.1 2K at $0.025" in cost.describe()
