"""Costs from the catalog: tokens at their prices, or the price per image."""

from __future__ import annotations

import pytest

from plait.providers import catalog, pricing
from plait.providers.pricing import TokenCount


def _model(model_id: str) -> catalog.ModelInfo:
    return catalog.current().get(model_id)


def test_each_kind_of_token_has_its_own_price_per_million() -> None:
    flash = _model("gemini-2.5-flash-image")

    assert pricing.token_cost(flash, TokenCount(input=1_000_000)) == pytest.approx(0.30)
    assert pricing.token_cost(flash, TokenCount(output_image=1_000_000)) == pytest.approx(30.0)
    assert pricing.token_cost(flash, TokenCount(output_text=1_000_000)) == pytest.approx(2.50)


def test_thinking_tokens_have_their_own_price_and_count_as_output() -> None:
    nb21 = _model("gemini-nano-banana-2.1")
    tokens = TokenCount(input=100, output_image=1120, thinking=300)

    assert pricing.token_cost(nb21, tokens) == pytest.approx(
        (100 * 1.50 + 1120 * 30.0 + 300 * 7.50) / 1e6
    )
    assert tokens.output == 1420
    priced = nb21.model_copy(
        update={
            "price_per_million_tokens": nb21.price_per_million_tokens.model_copy(
                update={"thinking": 1.0}
            )
        }
    )
    assert pricing.token_cost(priced, TokenCount(thinking=1_000_000)) == pytest.approx(1.0)


def test_a_1k_nano_banana_2_1_image_of_1120_tokens_costs_its_list_price() -> None:
    nb21 = _model("gemini-nano-banana-2.1")
    assert pricing.token_cost(nb21, TokenCount(output_image=1120)) == pytest.approx(
        nb21.image_price("1K")
    )


def test_a_nano_banana_image_of_1290_tokens_costs_about_its_list_price() -> None:
    cost = pricing.token_cost(_model("gemini-2.5-flash-image"), TokenCount(output_image=1290))

    assert cost == pytest.approx(0.0387)
    assert cost == pytest.approx(_model("gemini-2.5-flash-image").image_price(None), abs=0.001)


def test_a_pro_image_costs_tokens_plus_prompt_and_text() -> None:
    tokens = TokenCount(input=600, output_image=1120, output_text=40)

    cost = pricing.token_cost(_model("gemini-3-pro-image"), tokens)

    assert cost == pytest.approx((600 * 2.0 + 1120 * 120.0 + 40 * 12.0) / 1e6)
    assert tokens.output == 1160


@pytest.mark.parametrize("model", [m.id for m in catalog.current().models])
def test_the_batch_tier_discounts_tokens_like_images(model: str) -> None:
    info = _model(model)
    tokens = TokenCount(input=1000, output_image=1290, output_text=10)

    standard = pricing.token_cost(info, tokens)
    batch = pricing.token_cost(info, tokens, "batch")

    assert batch == pytest.approx(standard / 2)  # every shipped model: Batch API at half price
    assert pricing.tier_discount(info, "batch") == pytest.approx(
        info.image_price(None, "batch") / info.image_price(None)
    )


@pytest.mark.parametrize(
    ("model", "size", "images", "cost"),
    [
        ("gemini-2.5-flash-image", None, 1, 0.039),
        ("gemini-3-pro-image", "1K", 2, 0.268),
        ("gemini-3-pro-image", "4K", 1, 0.24),
        ("gemini-3-pro-image", None, 1, 0.134),
        ("gemini-3.1-flash-image", "512", 3, 0.135),
        ("gemini-3.1-flash-lite-image", None, 2, 0.0672),
    ],
)
def test_the_price_per_image_depends_on_size_and_count(
    model: str, size: str | None, images: int, cost: float
) -> None:
    assert pricing.image_cost(_model(model), size, images) == pytest.approx(cost)


def test_usage_prices_tokens_when_there_are_any() -> None:
    tokens = TokenCount(input=10, output_image=1290, output_text=5)
    model = _model("gemini-2.5-flash-image")

    usage = pricing.usage(model, tokens, images=1, image_size=None)

    assert (usage.input_tokens, usage.output_tokens) == (10, 1295)
    assert usage.cost_usd == pytest.approx(pricing.token_cost(model, tokens))


def test_usage_falls_back_to_the_price_per_image_without_tokens() -> None:
    usage = pricing.usage(_model("gemini-3-pro-image"), None, images=2, image_size="4K")

    assert (usage.input_tokens, usage.output_tokens) == (0, 0)
    assert usage.cost_usd == pytest.approx(0.48)


def test_the_fallback_uses_the_batch_price_in_the_batch_tier() -> None:
    usage = pricing.usage(
        _model("gemini-2.5-flash-image"), None, images=4, image_size=None, tier="batch"
    )

    assert usage.cost_usd == pytest.approx(4 * 0.0195)
