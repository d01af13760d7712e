"""What a batch will cost before it starts: rows × images per row × the catalog's price.

Each Image node contributes its `number_of_images` at the per-image price of its model
and size: the standard price, or the Batch API price (`plait batch --batch-api`). The
preview backend is free. Token-billed reality differs a little; the recorded cost of each
run is what the budget counts once rows finish.
"""

from __future__ import annotations

from dataclasses import dataclass

from plait.flows.validate import CompiledFlow
from plait.nodes.image import ImageConfig
from plait.providers import catalog
from plait.providers.catalog import PriceTier


@dataclass(frozen=True, slots=True)
class ImageLine:
    node_id: str
    model: str
    image_size: str | None
    images: int
    price_usd: float  # per image


@dataclass(frozen=True, slots=True)
class Estimate:
    rows: int
    lines: tuple[ImageLine, ...]
    free: bool  # the preview backend: nothing is billed
    tier: PriceTier = "standard"

    @property
    def images_per_row(self) -> int:
        return sum(line.images for line in self.lines)

    @property
    def per_row_usd(self) -> float:
        return 0.0 if self.free else sum(line.images * line.price_usd for line in self.lines)

    @property
    def total_usd(self) -> float:
        return self.rows * self.per_row_usd

    def describe(self) -> str:
        """Several lines: per Image node, then the total."""
        if not self.lines:
            return f"{self.rows} rows; the flow has no Image node: nothing is billed"
        parts = [
            f"  {line.node_id}: {line.images} × {line.model}"
            f"{' ' + line.image_size if line.image_size else ''} at ${line.price_usd:.3f}"
            for line in self.lines
        ]
        if self.free:
            return "\n".join([f"{self.rows} rows on the preview backend: free", *parts])
        price = " at Gemini Batch API prices (half the standard)" if self.tier == "batch" else ""
        return "\n".join(
            [
                f"{self.rows} rows × {self.images_per_row} image(s) per row{price}:",
                *parts,
                f"estimated cost: ${self.total_usd:.2f} (${self.per_row_usd:.4f} per row)",
            ]
        )


def estimate(
    compiled: CompiledFlow, rows: int, *, free: bool, tier: PriceTier = "standard"
) -> Estimate:
    lines = []
    for node in compiled.nodes.values():
        config = node.config
        if not isinstance(config, ImageConfig):
            continue
        model = catalog.current().get(config.model)
        price = model.image_price(config.image_size, tier)
        lines.append(
            ImageLine(node.id, model.id, config.image_size, config.number_of_images, price)
        )
    return Estimate(rows, tuple(lines), free, tier)
