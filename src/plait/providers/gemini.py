"""The Gemini image provider, on the official `google-genai` SDK's async client.

The SDK is told to try once (no retry options) so that `retry.RetryPolicy` is the only
retry policy and attempts can be counted. Each attempt has its own deadline
(`PLAIT_GEMINI_TIMEOUT`). Calls go to `v1beta` (`API_VERSION`), where Google documents
image generation. Every outcome that is not an image is its own typed `ProviderError`
(its class says whose move it is: `errors.Category`) whose message names the model,
quotes Gemini and says what to do.

Transport: the SDK's async client on an aiohttp session of the provider's own
(`HttpOptions.aiohttp_client`), one per event loop. The session the SDK would make
itself reads the environment on every request (`trust_env`: a ~/.netrc lookup and a
proxy lookup, each in a thread), two thread round trips per call that a batch of
hundreds of calls in flight waits for on a busy event loop; httpx2, its other
transport, costs more CPU per call and keeps only 20 idle connections. The proxy the
environment names (HTTPS_PROXY, NO_PROXY…) is read once, when the session is made.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import httpx
import httpx2
from aiohttp.helpers import get_env_proxy_for_url
from google import genai
from google.genai import errors as genai_errors
from google.genai import types
from yarl import URL

from plait.errors import (
    ProviderConfigError,
    ProviderError,
    ProviderInputError,
    ProviderTimeout,
    ProviderUnavailable,
)
from plait.providers import catalog as catalog_module
from plait.providers import gemini_models, pricing
from plait.providers.base import (
    GeneratedImage,
    ImagePart,
    ImageRequest,
    ImageResult,
    Part,
)
from plait.providers.catalog import Catalog, ModelInfo, PriceTier
from plait.providers.pricing import TokenCount
from plait.providers.retry import (
    TRANSIENT_STATUSES,
    RateSignals,
    RetriesExhausted,
    RetryPolicy,
    Sleep,
    Transient,
    parse_retry_after,
)

T = TypeVar("T")
_TIMEOUTS = (TimeoutError, httpx2.TimeoutException, httpx.TimeoutException)
_CONNECTION_ERRORS = (
    aiohttp.ClientConnectionError,
    aiohttp.ClientPayloadError,
    httpx2.TransportError,
    httpx.TransportError,
)
_GEMINI_URL = "https://generativelanguage.googleapis.com/"
# Google documents image generation, the Batch API and the Files API on v1beta; SDK 3.x
# would call v1 (its default since 3.0), where some models and fields are missing.
API_VERSION = "v1beta"


class GeminiProvider:
    """`ImageProvider` for Gemini's image models, keyed by the user's API key."""

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        base_url: str | None = None,
        *,
        attempts: int = 4,
        timeout: float = 120.0,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        deadline: Callable[[float], AbstractAsyncContextManager[object]] = asyncio.timeout,
        catalog: Catalog | None = None,
    ):
        """`deadline(timeout)` bounds each attempt (tests end a hang without waiting)."""
        self._api_key = api_key
        self._timeout = timeout
        self._deadline = deadline
        self._clock = clock
        self._policy = RetryPolicy(attempts=attempts, sleep=sleep)
        self._catalog = catalog
        self.rate_signals: RateSignals | None = None  # told of each 429 (the batch limiter)
        self.model_list: gemini_models.ModelList | None = None  # the key's, set by the factory
        self._base_url = base_url or None
        self._here: _LoopClient | None = None  # the client of the loop that used it last
        self._others: list[_LoopClient] = []  # of other loops, closed with the provider

    @property
    def client(self) -> genai.Client:
        """The SDK client for the running event loop (an aiohttp session is bound to one)."""
        loop = asyncio.get_running_loop()
        here = self._here
        if here is None or here.loop is not loop or here.session.closed:
            if here is not None:
                self._others.append(here)
            here = self._here = self._connect(loop)
        return here.client

    def _connect(self, loop: asyncio.AbstractEventLoop) -> _LoopClient:
        proxy, proxy_auth = _env_proxy(self._base_url or _GEMINI_URL)
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0),  # the callers bound the calls in flight
            trust_env=False,
            proxy=proxy,
            proxy_auth=proxy_auth,
        )
        options = types.HttpOptions(
            base_url=self._base_url,
            api_version=API_VERSION,
            timeout=round(self._timeout * 1000),  # milliseconds; also sent as X-Server-Timeout
            retry_options=types.HttpRetryOptions(attempts=1),
            aiohttp_client=session,
        )
        client = genai.Client(vertexai=False, api_key=self._api_key, http_options=options)
        return _LoopClient(loop, client, session)

    def model(self, model_id: str) -> ModelInfo:
        return (self._catalog or catalog_module.current()).get(model_id)

    async def generate(self, request: ImageRequest) -> ImageResult:
        model = self.model(request.model)
        contents = build_contents(request.parts)
        config = build_config(request)
        response = await self.call(
            model,
            lambda: self.client.aio.models.generate_content(
                model=model.id, contents=contents, config=config
            ),
        )
        return self.read(model, request, response)

    async def call(self, model: ModelInfo, attempt: Callable[[], Awaitable[T]]) -> T:
        """`attempt` under the retry policy, each try with its deadline; Gemini's errors
        become `ProviderError`s naming `model`."""
        try:
            return await self._policy.run(lambda: self._attempt(model, attempt))
        except RetriesExhausted as exc:
            kind = ProviderTimeout if isinstance(exc.last, _TimedOut) else ProviderUnavailable
            message = self.redact(_gave_up(model, exc))
            raise kind(message, retry_after=exc.last.retry_after) from None

    async def aclose(self) -> None:
        """Close this loop's session; another loop's closes with that loop (or is dropped)."""
        here, others = self._here, self._others
        self._here, self._others = None, []
        for used in [*others, *([here] if here else [])]:
            await used.close()

    async def _attempt(self, model: ModelInfo, attempt: Callable[[], Awaitable[T]]) -> T:
        try:
            async with self._deadline(self._timeout):
                return await attempt()
        except genai_errors.APIError as exc:
            raise self._api_failure(model, exc) from None
        except _TIMEOUTS:
            raise _TimedOut(
                f"no answer within {self._timeout:g} s",
                "Gemini is slow or unreachable; try again later, or allow each attempt more "
                f"time with PLAIT_GEMINI_TIMEOUT (now {self._timeout:g} s).",
            ) from None
        except _CONNECTION_ERRORS as exc:
            raise Transient(
                f"the connection failed ({type(exc).__name__}: {exc})",
                "Check the network, and PLAIT_GEMINI_BASE_URL if it is set.",
            ) from None

    def _api_failure(self, model: ModelInfo, exc: genai_errors.APIError) -> Exception:
        said = _said(exc)
        if exc.code == 429 and _no_quota(exc.details):
            return ProviderConfigError(self.redact(_no_free_tier(model, said)))
        if exc.code == 429 and self.rate_signals is not None:
            self.rate_signals.throttled()
        if exc.code in TRANSIENT_STATUSES:
            return Transient(said, _transient_advice(exc.code), retry_after=self._wait_asked(exc))
        kind, message = _refusal(model, exc, said, self._alternatives(model))
        return kind(self.redact(message))

    def _alternatives(self, model: ModelInfo) -> _Alternatives:
        """Models to offer instead of `model`: those this key lists, when its list is
        known, else the catalog's that Google serves (GA or preview)."""
        current = self._catalog or catalog_module.current()
        listed = self.model_list.cached() if self.model_list is not None else None
        if listed is not None:
            return gemini_models.usable_ids(current, listed, besides=model.id), True
        served = [m.id for m in current.models if m.lifecycle in ("ga", "preview")]
        return [m for m in served if m != model.id], False

    def _wait_asked(self, exc: genai_errors.APIError) -> float | None:
        headers = getattr(exc.response, "headers", None) or {}
        header = parse_retry_after(headers.get("retry-after"), self._clock)
        return header if header is not None else _retry_info_delay(exc.details)

    def read(
        self,
        model: ModelInfo,
        request: ImageRequest,
        response: types.GenerateContentResponse,
        tier: PriceTier = "standard",
    ) -> ImageResult:
        """The result of `request`, priced at `tier`; a block or a missing image raises."""
        blocked = _blocked(model, response)
        if blocked:
            raise ProviderInputError(self.redact(blocked))
        images, text = _outputs(response)
        if not images and "IMAGE" in request.response_modalities:
            kind, message = _no_image(model, response, text)
            raise kind(self.redact(message))
        tokens = _token_count(response.usage_metadata, images)
        usage = pricing.usage(
            model, tokens, images=len(images), image_size=request.image_size, tier=tier
        )
        return ImageResult(images=images, text=text, usage=usage, backend=self.name)

    def redact(self, message: str) -> str:
        return message.replace(self._api_key, "[API key]") if self._api_key else message


@dataclass(frozen=True, slots=True)
class _LoopClient:
    loop: asyncio.AbstractEventLoop
    client: genai.Client
    session: aiohttp.ClientSession

    async def close(self) -> None:
        running = asyncio.get_running_loop()
        if self.loop is running:
            await self.client.aio.aclose()
            await self.session.close()
        elif self.loop.is_running():
            asyncio.run_coroutine_threadsafe(self.session.close(), self.loop)
        # a closed loop's sockets went with it; the garbage collector drops the rest


def _env_proxy(url: str) -> tuple[str | None, aiohttp.BasicAuth | None]:
    """The proxy the environment names for `url` (HTTPS_PROXY, NO_PROXY, …), if any."""
    try:
        proxy, auth = get_env_proxy_for_url(URL(url))
    except LookupError:
        return None, None
    return str(proxy), auth


# --- the request ------------------------------------------------------------------------


def build_contents(parts: tuple[Part, ...]) -> list[types.Content]:
    """One user turn holding the parts exactly in the order given."""
    return [types.Content(role="user", parts=[_part(p) for p in parts])]


def _part(part: Part) -> types.Part:
    if isinstance(part, ImagePart):
        return types.Part.from_bytes(data=part.data, mime_type=part.media_type)
    return types.Part(text=part.text)


def build_config(request: ImageRequest) -> types.GenerateContentConfig:
    return _config(request.aspect_ratio, request.image_size, request.response_modalities)


@functools.lru_cache(maxsize=64)
def _config(
    aspect_ratio: str | None, image_size: str | None, modalities: tuple[str, ...]
) -> types.GenerateContentConfig:
    """Shared between calls with the same settings (the SDK does not change it)."""
    image_config = types.ImageConfig(aspect_ratio=aspect_ratio)
    if image_size is not None:
        image_config.image_size = image_size
    return types.GenerateContentConfig(
        response_modalities=list(modalities), image_config=image_config
    )


# --- the response -----------------------------------------------------------------------


def _outputs(response: types.GenerateContentResponse) -> tuple[list[GeneratedImage], str]:
    """Final images and text of the first candidate; interim "thought" images are skipped."""
    content = response.candidates[0].content if response.candidates else None
    images: list[GeneratedImage] = []
    texts: list[str] = []
    for part in (content.parts if content else None) or []:
        if part.thought:
            continue
        if part.inline_data is not None and part.inline_data.data:
            media_type = part.inline_data.mime_type or "image/png"
            images.append(GeneratedImage(part.inline_data.data, media_type))
        elif part.text:
            texts.append(part.text)
    return images, "".join(texts)


def _token_count(
    meta: types.GenerateContentResponseUsageMetadata | None, images: list[GeneratedImage]
) -> TokenCount | None:
    if meta is None or (meta.prompt_token_count is None and meta.candidates_token_count is None):
        return None
    output = meta.candidates_token_count or 0
    if meta.candidates_tokens_details:
        image_tokens = sum(
            d.token_count or 0
            for d in meta.candidates_tokens_details
            if d.modality == types.MediaModality.IMAGE
        )
    else:  # without a breakdown, output tokens are the image's when there is one
        image_tokens = output if images else 0
    text_tokens = output - image_tokens + (meta.thoughts_token_count or 0)
    return TokenCount(meta.prompt_token_count or 0, image_tokens, text_tokens)


def _blocked(model: ModelInfo, response: types.GenerateContentResponse) -> str | None:
    feedback = response.prompt_feedback
    if feedback is None or feedback.block_reason is None:
        return None
    reason = _enum_name(feedback.block_reason)
    detail = f": {feedback.block_reason_message}" if feedback.block_reason_message else ""
    advice = _BLOCK_ADVICE.get(reason, _SAFETY)
    return f"Gemini blocked the prompt for {model.id} (block reason {reason}{detail}). {advice}"


_SAFETY = "Gemini's safety filters stopped it; change the prompt or the reference images."
_BLOCK_ADVICE = {
    "BLOCKLIST": "The prompt holds a term Gemini's blocklist forbids; reword it.",
    "PROHIBITED_CONTENT": (
        "Google's terms forbid what it asks for; change the prompt or the reference images."
    ),
    "JAILBREAK": "Gemini took the prompt for an attempt to get around its rules; reword it.",
    "IMAGE_SAFETY": "A reference image tripped Gemini's safety filters; use another image.",
}
_Outcome = tuple[type[ProviderError], str]
# Finish reasons of a candidate without an image: whose move it is, and what to say.
_FINISHES: dict[str, _Outcome] = {
    "IMAGE_SAFETY": (
        ProviderInputError,
        "Gemini's safety filters withheld the image it made; change the prompt or the "
        "reference images (people, violence and likenesses are the usual causes).",
    ),
    "IMAGE_PROHIBITED_CONTENT": (
        ProviderInputError,
        "The image would show content Google's terms forbid; change the prompt or the "
        "reference images.",
    ),
    "SAFETY": (ProviderInputError, _SAFETY),
    "PROHIBITED_CONTENT": (
        ProviderInputError,
        "Google's terms forbid what the prompt asks for; change the prompt or the images.",
    ),
    "BLOCKLIST": (ProviderInputError, "The answer held a blocklisted term; reword the prompt."),
    "SPII": (
        ProviderInputError,
        "The answer would have held personal information; leave it out of the prompt.",
    ),
    "IMAGE_RECITATION": (
        ProviderInputError,
        "The image resembled an existing image too closely; make the prompt more original "
        "(no named artworks, characters or logos).",
    ),
    "RECITATION": (
        ProviderInputError,
        "The answer resembled existing content too closely; make the prompt more original.",
    ),
    "NO_IMAGE": (
        ProviderInputError,
        "The model was asked for an image but made none; ask for an image explicitly in "
        "the prompt (for example, begin with 'Generate an image of').",
    ),
    "LANGUAGE": (
        ProviderInputError,
        "The prompt's language is not supported; write it in a supported language.",
    ),
    "MAX_TOKENS": (ProviderInputError, "The answer ran out of tokens; shorten the prompt."),
    "IMAGE_OTHER": (
        ProviderError,
        "Gemini stopped making the image without saying why; try again, and if it happens "
        "again simplify the prompt or use fewer reference images.",
    ),
    "MALFORMED_RESPONSE": (
        ProviderError,
        "Gemini's answer was malformed (a fault on Gemini's side); try again.",
    ),
    "PUP_LIMITED_DISABLED": (
        ProviderConfigError,
        "Google has limited or disabled the account of this API key for breaching its "
        "Prohibited Use Policy; see the key's Google AI Studio page.",
    ),
}
_UNKNOWN_FINISH: _Outcome = (ProviderError, "Gemini did not say why; try again.")


def _no_image(model: ModelInfo, response: types.GenerateContentResponse, text: str) -> _Outcome:
    candidate = response.candidates[0] if response.candidates else None
    reason = _enum_name(candidate.finish_reason) if candidate and candidate.finish_reason else ""
    said = f' It said: "{_clip(text)}"' if text else ""
    if reason in ("STOP", "") and text:
        return ProviderInputError, (
            f"{model.id} answered in words only, without an image (finish reason "
            f"{reason or 'none given'}).{said} Ask for an image in the prompt (for example, "
            "begin with 'Generate an image of'), or answer its question in the prompt."
        )
    kind, advice = _FINISHES.get(reason, _UNKNOWN_FINISH)
    return kind, (
        f"{model.id} returned no image (finish reason {reason or 'none given'}).{said} {advice}"
    )


# --- errors -----------------------------------------------------------------------------


class _TimedOut(Transient):
    """An attempt that got no answer within the deadline."""


def _said(exc: genai_errors.APIError) -> str:
    status = f" {exc.status}" if exc.status else ""
    message = f": {exc.message}" if exc.message else ""
    return f"HTTP {exc.code}{status}{message}"


def _transient_advice(code: int) -> str:
    if code == 429:
        return (
            "You have reached your Gemini rate limit or quota; wait a minute, run fewer "
            "images at once, or raise the quota of your key."
        )
    return "Gemini is overloaded or failing; try again in a few minutes."


def _no_free_tier(model: ModelInfo, said: str) -> str:
    return (
        f"Gemini allows this API key no requests to {model.id}: its quota is 0 ({said}). "
        "Image models are not in Gemini's free tier; enable billing on the Google Cloud "
        "project of this key (Google AI Studio, 'Set up billing'), then run again."
    )


_Alternatives = tuple[list[str], bool]  # model ids, and whether from the key's own list


def _refusal(
    model: ModelInfo, exc: genai_errors.APIError, said: str, alternatives: _Alternatives
) -> _Outcome:
    code = exc.code
    if code == 400 and "API_KEY_INVALID" in _error_reasons(exc.details):
        return ProviderConfigError, (
            f"Gemini rejected the API key used for {model.id} ({said}). Check GEMINI_API_KEY "
            "or the key saved in Plait's settings."
        )
    if code == 400 and exc.status == "FAILED_PRECONDITION":
        return ProviderConfigError, (
            f"Gemini will not serve {model.id} to this API key from here ({said}). The API "
            "is not available in this region, or not without billing: enable billing on the "
            "key's Google Cloud project, or run Plait where the Gemini API is offered."
        )
    if code == 400:
        return ProviderInputError, (
            f"Gemini rejected the request to {model.id} ({said}). Check the prompt, the "
            "reference images and the image settings."
        )
    if code in (401, 403):
        return ProviderConfigError, (
            f"Gemini refused access to {model.id} ({said}). Check that the API key is valid "
            "and may use this model (API enabled, billing set up for paid models)."
        )
    if code == 404:
        return ProviderConfigError, _not_found(model, said, alternatives)
    return ProviderError, f"Gemini refused the request to {model.id} ({said})."


def _not_found(model: ModelInfo, said: str, alternatives: _Alternatives) -> str:
    """A 404: the successor of a deprecated or shut-down model, else the models to use
    instead (this key's own, when its `models.list` is known)."""
    if model.successor:
        return (
            f"Gemini no longer serves {model.id} ({said}). The model is "
            f"{model.lifecycle.replace('_', ' ')}; switch the node to its successor, "
            f"{model.successor}."
        )
    usable, from_key = alternatives
    whose = "this key's models.list has " if from_key else "the catalog has "
    choose = f"one of {', '.join(usable)} ({whose}them)" if usable else "another model"
    return (
        f"Gemini does not know the model {model.id} ({said}). Switch the node to {choose}, "
        "or correct the model catalog."
    )


def _gave_up(model: ModelInfo, exc: RetriesExhausted) -> str:
    last = exc.last
    tries = "1 attempt" if exc.attempts == 1 else f"{exc.attempts} attempts"
    waited = (
        f" Gemini asked to wait {last.retry_after:g} s before trying again."
        if last.retry_after
        else ""
    )
    problem = _sentence(last.problem)
    return f"Gemini failed {tries} at {model.id}; the last: {problem}{waited} {last.advice}"


def _no_quota(details: Any) -> bool:
    """Whether a 429's google.rpc.QuotaFailure names a quota of 0: the free tier, which
    offers image models nothing, so waiting and trying again cannot help."""
    for item in _error_details(details):
        if str(item.get("@type")).endswith("QuotaFailure"):
            violations = item.get("violations")
            for violation in violations if isinstance(violations, list) else []:
                if isinstance(violation, dict) and str(violation.get("quotaValue")) == "0":
                    return True
    return False


def _error_reasons(details: Any) -> set[str]:
    """The `reason`s of the google.rpc.ErrorInfo details in a Google error body."""
    items = _error_details(details)
    return {str(d.get("reason")) for d in items if str(d.get("@type")).endswith("ErrorInfo")}


def _retry_info_delay(details: Any) -> float | None:
    """The `retryDelay` of a google.rpc.RetryInfo detail ("7s", "0.5s"), in seconds."""
    for item in _error_details(details):
        if str(item.get("@type")).endswith("RetryInfo"):
            try:
                return float(str(item.get("retryDelay", "")).removesuffix("s"))
            except ValueError:
                return None
    return None


def _error_details(details: Any) -> list[dict[str, Any]]:
    error = details.get("error", details) if isinstance(details, dict) else {}
    items = error.get("details") if isinstance(error, dict) else None
    return [d for d in items if isinstance(d, dict)] if isinstance(items, list) else []


def _enum_name(value: Any) -> str:
    return str(getattr(value, "value", value))


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _clip(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
