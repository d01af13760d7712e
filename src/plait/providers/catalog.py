"""The model catalog: which Gemini image models exist, what they accept, what they cost,
where they are in their lifecycle, and which page each fact was read from.

The data lives in `catalog.json` beside this module; a user file named by
`PLAIT_MODEL_CATALOG` adds models or replaces them by id. `consistency_problems` is the
check a unit test runs on the shipped file (and `plait models --check` on the one in force).
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from plait.errors import PlaitError

Lifecycle = Literal["preview", "ga", "deprecated", "shut_down"]
PriceTier = Literal["standard", "batch"]
FACTS = ("lifecycle", "sizes", "ratios", "references", "prices")
BATCH_FACTOR = 0.5  # Google's Batch API: half the standard price, for images and tokens


class TokenPrices(BaseModel):
    """USD per million tokens. Thinking is billed as text output unless the page says else."""

    input: float = 0
    output_image: float = 0
    output_text: float = 0
    thinking: float | None = None

    @property
    def thinking_or_text(self) -> float:
        return self.output_text if self.thinking is None else self.thinking


class Source(BaseModel):
    """The page a fact was read from, and when."""

    url: str
    read: date
    note: str | None = None


class ModelInfo(BaseModel):
    id: str
    label: str
    lifecycle: Lifecycle = "ga"
    released: date | None = None
    deprecated: date | None = None
    shutdown: date | None = None
    successor: str | None = None
    lifecycle_note: str | None = None
    aliases: list[str] = Field(default_factory=list)
    dimensions: dict[str, tuple[int, int]]
    sizes: dict[str, float] = Field(default_factory=dict)
    default_size: str | None = None
    max_references: int
    price_per_image: dict[PriceTier, dict[str, float]]
    price_per_million_tokens: TokenPrices = Field(default_factory=TokenPrices)
    sources: dict[str, Source] = Field(default_factory=dict)

    @property
    def aspect_ratios(self) -> list[str]:
        return list(self.dimensions)

    @property
    def runs(self) -> bool:
        """Whether Google still serves the model (a deprecated one runs, with a warning)."""
        return self.lifecycle != "shut_down"

    def pixel_size(self, aspect_ratio: str | None, image_size: str | None) -> tuple[int, int]:
        """The width and height this model returns for a ratio and size (both already valid)."""
        width, height = self.dimensions[aspect_ratio or "1:1"]
        scale = self.sizes.get(image_size or self.default_size or "", 1)
        return round(width * scale), round(height * scale)

    def image_price(self, image_size: str | None, tier: PriceTier = "standard") -> float:
        prices = self.price_per_image[tier]
        return prices.get(image_size or self.default_size or "1K", next(iter(prices.values())))

    def lifecycle_warning(self) -> str | None:
        """What a user of a deprecated model should know, or None."""
        if self.lifecycle != "deprecated":
            return None
        when = f" on {self.deprecated}" if self.deprecated else ""
        shutdown = f"; Google shuts it down on {self.shutdown}" if self.shutdown else ""
        switch = f"; switch to {self.successor}" if self.successor else ""
        return f"{self.id} was deprecated by Google{when}{shutdown}{switch}"

    def shut_down_message(self) -> str:
        when = f" on {self.shutdown}" if self.shutdown else ""
        switch = (
            f"; switch the node to its successor, {self.successor}"
            if self.successor
            else "; choose another model"
        )
        return f"{self.id} was shut down by Google{when} and no longer runs{switch}"


class Catalog(BaseModel):
    default: str
    checked: date | None = None
    models: list[ModelInfo]

    def get(self, model_id: str) -> ModelInfo:
        """The model by id or by a retired alias; raises UnknownModel."""
        found = self.find(model_id)
        if found is None:
            known = ", ".join(m.id for m in self.models)
            raise UnknownModel(f"unknown model '{model_id}'; the catalog has: {known}")
        return found

    def find(self, model_id: str) -> ModelInfo | None:
        for model in self.models:
            if model_id == model.id or model_id in model.aliases:
                return model
        return None

    def merged(self, other: Catalog) -> Catalog:
        by_id = {m.id: m for m in self.models} | {m.id: m for m in other.models}
        return Catalog(
            default=other.default,
            checked=other.checked or self.checked,
            models=list(by_id.values()),
        )


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


# --- consistency ------------------------------------------------------------------------


def consistency_problems(catalog: Catalog) -> list[str]:
    """Every way the catalog contradicts itself, one line each (empty when it is sound)."""
    problems: list[str] = []
    ids = [m.id for m in catalog.models]
    names = ids + [a for m in catalog.models for a in m.aliases]
    problems += [
        f"'{n}' names more than one model" for n in sorted(set(names)) if names.count(n) > 1
    ]
    default = catalog.find(catalog.default)
    if default is None:
        problems.append(f"the default '{catalog.default}' is not in the catalog")
    elif not default.runs or default.lifecycle == "deprecated":
        problems.append(f"the default '{default.id}' is {default.lifecycle}")
    for model in catalog.models:
        problems += [f"{model.id}: {p}" for p in _model_problems(model, catalog)]
    return problems


def _model_problems(model: ModelInfo, catalog: Catalog) -> list[str]:
    return [
        *_lifecycle_problems(model, catalog),
        *_size_problems(model),
        *_price_problems(model),
        *[f"no source for its {fact}" for fact in FACTS if fact not in model.sources],
    ]


def _lifecycle_problems(model: ModelInfo, catalog: Catalog) -> list[str]:
    problems = []
    if model.successor is not None:
        successor = catalog.find(model.successor)
        if successor is None:
            problems.append(f"its successor '{model.successor}' is not in the catalog")
        elif not successor.runs:
            problems.append(f"its successor '{successor.id}' is shut down")
    if model.lifecycle in ("deprecated", "shut_down") and model.successor is None:
        problems.append(f"is {model.lifecycle} but names no successor")
    if model.lifecycle == "deprecated" and model.deprecated is None:
        problems.append("is deprecated but has no deprecation date")
    if model.lifecycle == "shut_down" and model.shutdown is None:
        problems.append("is shut down but has no shutdown date")
    if model.lifecycle in ("ga", "preview") and (model.deprecated or model.shutdown):
        problems.append(f"is {model.lifecycle} but has a deprecation or shutdown date")
    checked = catalog.checked
    if model.lifecycle == "deprecated" and model.shutdown and checked and model.shutdown <= checked:
        problems.append(f"its shutdown date {model.shutdown} had passed when checked ({checked})")
    return problems


def _size_problems(model: ModelInfo) -> list[str]:
    problems = []
    if not model.dimensions:
        problems.append("has no pixel table (dimensions)")
    if "1:1" not in model.dimensions:
        problems.append("has no 1:1 ratio, which requests without a ratio fall back to")
    if model.sizes and model.default_size not in model.sizes:
        problems.append(f"its default size '{model.default_size}' is not one of its sizes")
    if not model.sizes and model.default_size is not None:
        problems.append("has a default size but no sizes")
    problems += [f"size '{s}' has no pixel scale" for s, scale in model.sizes.items() if scale <= 0]
    return problems


def _price_problems(model: ModelInfo) -> list[str]:
    problems = []
    sizes = list(model.sizes) or ["1K"]
    for tier in ("standard", "batch"):
        prices = model.price_per_image.get(tier, {})
        problems += [f"size '{s}' has no {tier} price" for s in sizes if s not in prices]
        problems += [f"{tier} price for '{s}', a size it lacks" for s in prices if s not in sizes]
    standard = model.price_per_image.get("standard", {})
    batch = model.price_per_image.get("batch", {})
    for size, price in standard.items():
        if size in batch and abs(batch[size] - price * BATCH_FACTOR) > 1e-9:
            problems.append(f"batch price for '{size}' is not half the standard {price}")
    tokens = model.price_per_million_tokens
    if min(tokens.input, tokens.output_image, tokens.output_text) <= 0:
        problems.append("lacks a price per million tokens (input, image output, text output)")
    return problems
