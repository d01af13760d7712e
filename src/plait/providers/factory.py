"""Choosing the image provider a run uses, from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait.errors import PlaitError
from plait.providers import gemini_models
from plait.providers.base import ImageProvider
from plait.providers.preview import PreviewProvider
from plait.settings import Backend, Settings

if TYPE_CHECKING:
    from plait.providers.gemini import GeminiProvider


def make_provider(settings: Settings, backend: Backend | None = None) -> ImageProvider:
    """The Gemini provider when chosen (or a key is set), else the offline preview."""
    chosen = backend or settings.image_backend
    if chosen == "preview":
        return PreviewProvider()
    if settings.gemini_api_key is None:
        raise PlaitError(
            "the gemini backend needs a key: set GEMINI_API_KEY (or GOOGLE_API_KEY), "
            "or use the offline preview (--preview or PLAIT_IMAGE_BACKEND=preview)"
        )
    from plait.providers.gemini import GeminiProvider

    key = settings.gemini_api_key.get_secret_value()
    provider = GeminiProvider(
        api_key=key,
        base_url=settings.gemini_base_url,
        attempts=settings.gemini_attempts,
        timeout=settings.gemini_timeout,
    )
    provider.model_list = model_list(provider, settings)
    return provider


def model_list(provider: GeminiProvider, settings: Settings) -> gemini_models.ModelList:
    """The key's `models.list`, read through `provider`'s client, cached in the data dir."""
    assert settings.gemini_api_key is not None
    key = settings.gemini_api_key.get_secret_value()
    return gemini_models.ModelList.of(
        provider,
        key_id=gemini_models.fingerprint(key, settings.gemini_base_url),
        cache_file=settings.data_dir / gemini_models.CACHE_FILE,
    )
