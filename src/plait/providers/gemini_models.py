"""The models this Gemini API key can use, from Gemini's own `models.list`.

The catalog says what exists; the key's list says what this key may call (Google serves
some models only to projects that used them before). The list is fetched through the
SDK's async client, cached in a small JSON file in the data dir (per key and endpoint, by
a hash: the key itself is never written), refreshed once a day and on
`plait models --check`. A run on a catalog model the list lacks fails before the paid
call (`ensure_usable`). When the list cannot be read, nothing is blocked: Gemini's own
answer decides, as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from plait.errors import PlaitError, ProviderConfigError
from plait.providers.catalog import Catalog, ModelInfo

if TYPE_CHECKING:  # the SDK is slow to import: only `fetch` needs it
    from google import genai
    from google.genai import types

    from plait.providers.base import ImageProvider
    from plait.providers.gemini import GeminiProvider

log = logging.getLogger(__name__)

DAY = 24 * 60 * 60.0
PAGE_SIZE = 100
CACHE_FILE = "gemini-models.json"  # in the data dir
_GENERATE = ("generateContent", "batchGenerateContent", "streamGenerateContent")


class ModelListError(PlaitError):
    """Gemini's model list could not be read (bad key, network, endpoint)."""


class ModelUnavailable(ProviderConfigError):
    """A catalog model that this key's model list lacks: Plait's set-up (the node's model,
    the key's project) must change, so a published caller gets 502, not a bare 500."""


@dataclass(frozen=True, slots=True)
class KeyModels:
    """What `models.list` answered for one key: model id → display name, and when."""

    checked: float  # seconds since the epoch
    models: dict[str, str]

    def usable(self, model: ModelInfo) -> bool:
        return any(name in self.models for name in (model.id, *model.aliases))

    def to_json(self) -> dict[str, Any]:
        return {"checked": self.checked, "models": self.models}

    @classmethod
    def from_json(cls, data: Any) -> KeyModels | None:
        if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
            return None
        checked = data.get("checked")
        if not isinstance(checked, int | float):
            return None
        return cls(float(checked), {str(k): str(v) for k, v in data["models"].items()})


async def fetch(client: genai.Client) -> KeyModels:
    """Every model the key lists that can generate content, all pages, through the SDK."""
    import aiohttp
    from google.genai import errors as genai_errors
    from google.genai import types

    found: dict[str, str] = {}
    try:
        pager = await client.aio.models.list(config=types.ListModelsConfig(page_size=PAGE_SIZE))
        async for model in pager:
            name = (model.name or "").removeprefix("models/")
            if name and _generates(model):
                found[name] = model.display_name or name
    except genai_errors.APIError as exc:
        raise ModelListError(
            f"Gemini's model list could not be read (HTTP {exc.code} {exc.status or ''}: "
            f"{exc.message or ''}). Check the API key and PLAIT_GEMINI_BASE_URL."
        ) from None
    except (OSError, TimeoutError, aiohttp.ClientError) as exc:
        raise ModelListError(
            f"Gemini's model list could not be read ({type(exc).__name__}: {exc}). "
            "Check the network and PLAIT_GEMINI_BASE_URL."
        ) from None
    return KeyModels(time.time(), found)


def _generates(model: types.Model) -> bool:
    actions = model.supported_actions
    return actions is None or any(a in _GENERATE for a in actions)


def fingerprint(api_key: str, base_url: str | None) -> str:
    """Names a key's cache entry without storing the key."""
    return hashlib.sha256(f"{base_url or ''}\n{api_key}".encode()).hexdigest()[:32]


@dataclass
class ModelList:
    """One key's model list: from memory, else the cache file if under a day old, else Gemini."""

    client: Callable[[], genai.Client]
    key_id: str
    cache_file: Path | None
    clock: Callable[[], float] = time.time
    max_age: float = DAY
    retry_after_failure: float = (
        300.0  # a list that could not be read is not asked for again sooner
    )
    _known: KeyModels | None = None
    _failed_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def of(cls, provider: GeminiProvider, *, key_id: str, cache_file: Path | None) -> ModelList:
        """Read through `provider`'s client, held weakly: the provider holds its list."""
        held = weakref.ref(provider)

        def client() -> genai.Client:
            alive = held()
            if alive is None:
                raise ModelListError("the Gemini provider was closed")
            return alive.client

        return cls(client=client, key_id=key_id, cache_file=cache_file)

    def cached(self) -> KeyModels | None:
        """The last list known, however old (None if never read)."""
        if self._known is None:
            self._known = _read_cache(self.cache_file).get(self.key_id)
        return self._known

    async def get(self, *, refresh: bool = False) -> KeyModels:
        """A list no older than `max_age` (fetched now when `refresh`); raises ModelListError."""
        async with self._lock:
            known = self.cached()
            if not refresh and known is not None and self.clock() - known.checked < self.max_age:
                return known
            fresh = await fetch(self.client())
            fresh = KeyModels(self.clock(), fresh.models)
            self._known = fresh
            _write_cache(self.cache_file, self.key_id, fresh)
            return fresh

    async def usable_or_unknown(self) -> KeyModels | None:
        """The list for a pre-run check or the canvas: the cached one when Gemini's cannot
        be read (None when there is none), asking again only after `retry_after_failure`."""
        failed = self._failed_at
        if failed is not None and self.clock() - failed < self.retry_after_failure:
            return self.cached()
        try:
            listed = await self.get()
        except ModelListError as exc:
            self._failed_at = self.clock()
            log.warning("%s", exc.message)
            return self.cached()
        self._failed_at = None
        return listed


def availability(catalog: Catalog, listed: KeyModels | None) -> dict[str, bool | None]:
    """Each catalog model id → whether this key lists it (None: not known)."""
    return {m.id: None if listed is None else listed.usable(m) for m in catalog.models}


def not_in_catalog(catalog: Catalog, listed: KeyModels) -> list[str]:
    """Image models the key lists that the catalog lacks (usable via PLAIT_MODEL_CATALOG)."""
    known = {n for m in catalog.models for n in (m.id, *m.aliases)}
    return sorted(n for n in listed.models if "image" in n and n not in known)


def usable_ids(catalog: Catalog, listed: KeyModels, *, besides: str | None = None) -> list[str]:
    """The catalog's models (not shut down) that this key lists, but `besides`."""
    return [m.id for m in catalog.models if m.runs and m.id != besides and listed.usable(m)]


def unavailable_message(model: ModelInfo, catalog: Catalog, listed: KeyModels) -> str:
    usable = usable_ids(catalog, listed)
    choose = (
        f"models this key can use: {', '.join(usable)}"
        if usable
        else "this key can use none of the catalog's image models (check its project's billing)"
    )
    return (
        f"{model.id} is not in this Gemini API key's model list (models.list), so Gemini "
        f"would refuse it; {choose}. Change the node's model, or run `plait models --check` "
        "if the key's access has changed."
    )


async def for_display(
    provider: ImageProvider, *, refresh: bool = False, wait: float = 10.0
) -> KeyModels | None:
    """The list to show (API, canvas): at most `wait` seconds of asking, else what is cached."""
    models = provider.model_list
    if models is None:
        return None
    try:
        async with asyncio.timeout(wait):
            if refresh:
                return await models.get(refresh=True)
            return await models.usable_or_unknown()
    except TimeoutError:
        return models.cached()


async def ensure_usable(provider: ImageProvider, model: ModelInfo, catalog: Catalog) -> None:
    """Raises ModelUnavailable when `provider`'s key does not list `model` (the gate each
    run goes through before a paid call)."""
    models = provider.model_list
    if models is None:
        return  # the preview backend, or a provider made without a key's list
    listed = await models.usable_or_unknown()
    if listed is not None and not listed.usable(model):
        raise ModelUnavailable(unavailable_message(model, catalog, listed))


# --- the cache file ---------------------------------------------------------------------


def _read_cache(path: Path | None) -> dict[str, KeyModels]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    entries = {k: KeyModels.from_json(v) for k, v in data.items()}
    return {k: v for k, v in entries.items() if v is not None}


def _write_cache(path: Path | None, key_id: str, models: KeyModels) -> None:
    if path is None:
        return
    entries = {k: v.to_json() for k, v in _read_cache(path).items()}
    entries[key_id] = models.to_json()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries, indent=1, sort_keys=True))
        tmp.replace(path)
    except OSError as exc:
        log.warning("cannot write the model list cache %s: %s", path, exc)
