"""Choosing the image provider a run uses, from settings."""

from __future__ import annotations

from plait.errors import PlaitError
from plait.providers.base import ImageProvider
from plait.providers.preview import PreviewProvider
from plait.settings import Backend, Settings


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

    return GeminiProvider(
        api_key=settings.gemini_api_key.get_secret_value(),
        base_url=settings.gemini_base_url,
        attempts=settings.gemini_attempts,
        timeout=settings.gemini_timeout,
    )
