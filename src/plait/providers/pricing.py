"""What an image call costs, from the catalog's prices.

Gemini bills tokens: input tokens, output image tokens, output text tokens and thinking
tokens, each at its own price per million (the catalog's `thinking` price, which is the
text output price unless Google's page says otherwise). When a response carries no token counts,
the catalog's price per image stands in.
"""

from __future__ import annotations

from dataclasses import dataclass

from plait.providers.base import Usage
from plait.providers.catalog import ModelInfo, PriceTier


@dataclass(frozen=True, slots=True)
class TokenCount:
    input: int = 0
    output_image: int = 0
    output_text: int = 0
    thinking: int = 0

    @property
    def output(self) -> int:
        return self.output_image + self.output_text + self.thinking


def token_cost(model: ModelInfo, tokens: TokenCount, tier: PriceTier = "standard") -> float:
    prices = model.price_per_million_tokens
    usd = (
        tokens.input * prices.input
        + tokens.output_image * prices.output_image
        + tokens.output_text * prices.output_text
        + tokens.thinking * prices.thinking_or_text
    ) / 1_000_000
    return usd * tier_discount(model, tier)


def image_cost(
    model: ModelInfo, image_size: str | None, images: int = 1, tier: PriceTier = "standard"
) -> float:
    return model.image_price(image_size, tier) * images


def tier_discount(model: ModelInfo, tier: PriceTier) -> float:
    """The factor a tier applies to token prices, which the catalog lists for `standard` only.

    Google discounts the Batch API by the same ratio for tokens as for images, so the
    ratio of the per-image prices is used.
    """
    if tier == "standard":
        return 1.0
    return model.image_price(None, tier) / model.image_price(None, "standard")


def usage(
    model: ModelInfo,
    tokens: TokenCount | None,
    *,
    images: int,
    image_size: str | None,
    tier: PriceTier = "standard",
) -> Usage:
    """Usage with its cost: from tokens when known, else from the price per image."""
    if tokens is None:
        return Usage(cost_usd=image_cost(model, image_size, images, tier))
    return Usage(tokens.input, tokens.output, token_cost(model, tokens, tier))
