"""The model catalog: which Gemini image models exist, what they accept, what they cost.

The data lives in `catalog.json` beside this module; a user file named by
`PLAIT_MODEL_CATALOG` adds models or replaces them by id.
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from plait.errors import PlaitError

Lifecycle = Literal["ga", "preview", "deprecated"]
PriceTier = Literal["standard", "batch"]


class TokenPrices(BaseModel):
    input: float = 0
    output_image: float = 0
    output_text: float = 0


class ModelInfo(BaseModel):
    id: str
    label: str
    lifecycle: Lifecycle = "ga"
    successor: str | None = None
    aliases: list[str] = Field(default_factory=list)
    dimensions: dict[str, tuple[int, int]]
    sizes: dict[str, float] = Field(default_factory=dict)
    default_size: str | None = None
    max_references: int
    price_per_image: dict[PriceTier, dict[str, float]]
    price_per_million_tokens: TokenPrices = Field(default_factory=TokenPrices)

    @property
    def aspect_ratios(self) -> list[str]:
        return list(self.dimensions)

    def pixel_size(self, aspect_ratio: str | None, image_size: str | None) -> tuple[int, int]:
        """The width and height this model returns for a ratio and size (both already valid)."""
        width, height = self.dimensions[aspect_ratio or "1:1"]
        scale = self.sizes.get(image_size or self.default_size or "", 1)
        return round(width * scale), round(height * scale)

    def image_price(self, image_size: str | None, tier: PriceTier = "standard") -> float:
        prices = self.price_per_image[tier]
        return prices.get(image_size or self.default_size or "1K", next(iter(prices.values())))


class Catalog(BaseModel):
    default: str
    models: list[ModelInfo]

    def get(self, model_id: str) -> ModelInfo:
        """The model by id or by a retired alias; raises UnknownModel."""
        for model in self.models:
            if model_id == model.id or model_id in model.aliases:
                return model
        known = ", ".join(m.id for m in self.models)
        raise UnknownModel(f"unknown model '{model_id}'; the catalog has: {known}")

    def merged(self, other: Catalog) -> Catalog:
        by_id = {m.id: m for m in self.models} | {m.id: m for m in other.models}
        return Catalog(default=other.default, models=list(by_id.values()))


class UnknownModel(PlaitError):
    pass


class CatalogError(PlaitError):
    pass


def load(user_file: Path | None = None) -> Catalog:
    text = resources.files(__package__).joinpath("catalog.json").read_text()
    catalog = Catalog.model_validate_json(text)
    if user_file is None:
        return catalog
    try:
        data = json.loads(user_file.read_text())
        data.setdefault("default", catalog.default)
        return catalog.merged(Catalog.model_validate(data))
    except (OSError, ValueError, ValidationError) as exc:
        raise CatalogError(f"cannot read the model catalog {user_file}: {exc}") from None


@lru_cache(maxsize=1)
def current() -> Catalog:
    """The catalog in force: the shipped one, merged with PLAIT_MODEL_CATALOG if set."""
    from plait.settings import Settings

    return load(Settings().model_catalog)
