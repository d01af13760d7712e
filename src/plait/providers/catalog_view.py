"""The catalog as the API, the canvas and `plait models --json` show it."""

from __future__ import annotations

from typing import Any

from plait.providers.catalog import Catalog, ModelInfo
from plait.providers.gemini_models import KeyModels, not_in_catalog


def model_json(model: ModelInfo, catalog: Catalog, listed: KeyModels | None) -> dict[str, Any]:
    """Every catalog fact of `model`, its ratios and sizes as lists, whether it is the
    default, and whether this key can use it (`available`: null when not known)."""
    return {
        **model.model_dump(mode="json"),
        "aspect_ratios": model.aspect_ratios,
        "image_sizes": list(model.sizes),
        "default": model.id == catalog.default,
        "available": None if listed is None else listed.usable(model),
    }


def catalog_json(catalog: Catalog, listed: KeyModels | None) -> dict[str, Any]:
    key: dict[str, Any] | None = None
    if listed is not None:
        key = {"checked": listed.checked, "not_in_catalog": not_in_catalog(catalog, listed)}
    return {
        "default": catalog.default,
        "checked": None if catalog.checked is None else catalog.checked.isoformat(),
        "models": [model_json(m, catalog, listed) for m in catalog.models],
        "key": key,
    }
