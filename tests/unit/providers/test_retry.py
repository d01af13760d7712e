"""Failures: what is retried, how long Plait waits, how many attempts, what the user reads.

Provider tests drive the real SDK against the fake Gemini; waits go to an injected
sleep, so nothing here really sleeps except where a time-out must elapse.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from plait.errors import (
    Category,
    ProviderConfigError,
    ProviderError,
    ProviderInputError,
    ProviderTimeout,
    ProviderUnavailable,
)
from plait.providers import catalog
from plait.providers.base import ImagePart, ImageRequest, TextPart
from plait.providers.catalog import Catalog, ModelInfo
from plait.providers.factory import make_provider
from plait.providers.gemini import GeminiProvider
from plait.providers.gemini_models import KeyModels, ModelList
from plait.providers.retry import (
    RetriesExhausted,
    RetryPolicy,
    Transient,
    parse_retry_after,
)
from plait.settings import Settings
from tests.fakes.gemini import FakeGemini, Fault

KEY = "test-key-7f3a"
MODEL = "gemini-2.5-flash-image"
NOW = 1_800_000_000.0


class Sleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def provider(gemini_fake: FakeGemini, sleeps: Sleeps) -> AsyncIterator[GeminiProvider]:
    gemini = GeminiProvider(KEY, gemini_fake.base_url, sleep=sleeps, clock=lambda: NOW)
    yield gemini
    await gemini.aclose()


def _request(model: str = MODEL) -> ImageRequest:
    return ImageRequest(model, (TextPart("a lighthouse at dusk"),))


async def _failure(provider: GeminiProvider, model: str = MODEL) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        await provider.generate(_request(model))
    return caught.value


# --- transient failures are retried -----------------------------------------------------


@pytest.mark.parametrize("status", [429, 500, 503, 504])
async def test_a_transient_failure_is_retried_and_then_succeeds(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps, status: int
) -> None:
    gemini_fake.fail(Fault.error(status))

    result = await provider.generate(_request())

    assert len(result.images) == 1
    assert len(gemini_fake.requests) == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 1.0  # full jitter under the first backoff step of 1 s


async def test_retry_after_in_seconds_is_honoured(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.error(429, retry_after="7"), Fault.error(429, retry_after="3"))

    await provider.generate(_request())

    assert sleeps == [7.0, 3.0]
    assert len(gemini_fake.requests) == 3


async def test_retry_after_as_an_http_date_is_honoured(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    when = format_datetime(datetime.fromtimestamp(NOW + 30, UTC), usegmt=True)
    gemini_fake.fail(Fault.error(503, retry_after=when))

    await provider.generate(_request())

    assert sleeps == [30.0]


async def test_googles_retry_info_delay_is_honoured(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.error(429, retry_delay="12.5s"))

    await provider.generate(_request())

    assert sleeps == [12.5]


async def test_attempts_are_bounded_and_the_user_reads_why(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(*[Fault.error(503)] * 6)

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 4
    assert len(sleeps) == 3
    assert all(0 <= s <= cap for s, cap in zip(sleeps, [1, 2, 4], strict=True))
    assert error.retryable
    assert str(error) == (
        "Gemini failed 4 attempts at gemini-2.5-flash-image; the last: HTTP 503 UNAVAILABLE: "
        "The model is overloaded. Please try again later. Gemini is overloaded or failing; "
        "try again in a few minutes."
    )


async def test_the_number_of_attempts_is_configurable(
    gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(*[Fault.error(500)] * 6)
    gemini = GeminiProvider(KEY, gemini_fake.base_url, attempts=2, sleep=sleeps)

    error = await _failure(gemini)
    await gemini.aclose()

    assert len(gemini_fake.requests) == 2
    assert "failed 2 attempts" in str(error)
    assert "HTTP 500 INTERNAL" in str(error)


async def test_a_rate_limit_says_so_and_names_the_wait(
    gemini_fake: FakeGemini, provider: GeminiProvider, sleeps: Sleeps
) -> None:
    gemini_fake.rate_limit = 1
    await provider.generate(_request())

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1 + 4
    assert len(sleeps) == 3
    assert all(59 <= s <= 60 for s in sleeps)  # the fake's window frees in about a minute
    assert "HTTP 429 RESOURCE_EXHAUSTED" in str(error)
    assert "Gemini asked to wait" in str(error)
    assert "rate limit or quota" in str(error)
    assert error.retryable


async def test_a_wait_longer_than_plait_allows_is_not_slept(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.error(429, retry_after="3600"))

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert "failed 1 attempt at gemini-2.5-flash-image" in str(error)
    assert "Gemini asked to wait 3600 s" in str(error)


def until_it_hangs(fake: FakeGemini) -> Callable[[float], AbstractAsyncContextManager[object]]:
    """An attempt's deadline that passes as soon as the fake begins a hang (the timeout
    itself is only a backstop): no test waits on the clock for a time-out."""

    @asynccontextmanager
    async def deadline(seconds: float) -> AsyncIterator[object]:
        loop = asyncio.get_running_loop()
        hung = asyncio.Event()

        def on_hang() -> None:
            loop.call_soon_threadsafe(hung.set)

        fake.on_hang = on_hang
        async with asyncio.timeout(seconds) as timeout:

            async def expire_on_hang() -> None:
                await hung.wait()
                timeout.reschedule(loop.time())

            watcher = asyncio.ensure_future(expire_on_hang())
            try:
                yield timeout
            finally:
                watcher.cancel()

    return deadline


async def test_a_hang_times_out_and_is_retried(gemini_fake: FakeGemini, sleeps: Sleeps) -> None:
    gemini_fake.fail(Fault.hang_for(60))
    gemini = GeminiProvider(
        KEY, gemini_fake.base_url, timeout=30, sleep=sleeps, deadline=until_it_hangs(gemini_fake)
    )

    result = await gemini.generate(_request())
    await gemini.aclose()

    assert len(result.images) == 1
    assert len(gemini_fake.requests) == 2
    assert len(sleeps) == 1


async def test_hanging_every_time_ends_in_a_time_out_error(
    gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.hang_for(60), Fault.hang_for(60))
    gemini = GeminiProvider(
        KEY,
        gemini_fake.base_url,
        attempts=2,
        timeout=30,
        sleep=sleeps,
        deadline=until_it_hangs(gemini_fake),
    )

    error = await _failure(gemini)
    await gemini.aclose()

    assert len(gemini_fake.requests) == 2
    assert isinstance(error, ProviderTimeout)
    assert error.category == Category.TIMEOUT
    assert str(error) == (
        "Gemini failed 2 attempts at gemini-2.5-flash-image; the last: no answer within 30 s. "
        "Gemini is slow or unreachable; try again later, or allow each attempt more time with "
        "PLAIT_GEMINI_TIMEOUT (now 30 s)."
    )


async def test_plait_gemini_timeout_sets_each_attempts_deadline(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_GEMINI_TIMEOUT", "1")
    monkeypatch.setenv("PLAIT_GEMINI_ATTEMPTS", "1")
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("PLAIT_GEMINI_BASE_URL", gemini_fake.base_url)
    gemini_fake.fail(Fault.hang_for(30))
    gemini = make_provider(Settings(_env_file=None), "gemini")
    assert isinstance(gemini, GeminiProvider)

    error = await _failure(gemini)
    await gemini.aclose()

    assert isinstance(error, ProviderTimeout)
    assert gemini_fake.requests[0].headers["x-server-timeout"] == "1"  # whole seconds
    assert "no answer within 1 s" in str(error)
    assert "PLAIT_GEMINI_TIMEOUT (now 1 s)" in str(error)


async def test_a_refused_connection_is_retried_and_reported(sleeps: Sleeps) -> None:
    with socket.socket() as sock:  # a port nothing listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    gemini = GeminiProvider(KEY, f"http://127.0.0.1:{port}", attempts=3, sleep=sleeps)

    error = await _failure(gemini)
    await gemini.aclose()

    assert len(sleeps) == 2
    assert "failed 3 attempts at gemini-2.5-flash-image; the last: the connection failed" in str(
        error
    )
    assert "PLAIT_GEMINI_BASE_URL" in str(error)


# --- refusals are not retried -----------------------------------------------------------


async def test_a_bad_request_is_reported_with_geminis_message_once(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.error(400, "Unable to process input image."))

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert not error.retryable
    assert str(error) == (
        "Gemini rejected the request to gemini-2.5-flash-image (HTTP 400 INVALID_ARGUMENT: "
        "Unable to process input image.). Check the prompt, the reference images and the "
        "image settings."
    )


async def test_a_forbidden_model_is_reported_once(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    gemini_fake.fail(Fault.error(403, "Your project has been denied access."))

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert str(error) == (
        "Gemini refused access to gemini-2.5-flash-image (HTTP 403 PERMISSION_DENIED: Your "
        "project has been denied access.). Check that the API key is valid and may use this "
        "model (API enabled, billing set up for paid models)."
    )


async def test_a_wrong_key_is_named_as_the_problem_and_never_shown(sleeps: Sleeps) -> None:
    with FakeGemini(api_key="the-right-key") as fake:
        gemini = GeminiProvider("a-wrong-key", fake.base_url, sleep=sleeps)
        error = await _failure(gemini)
        await gemini.aclose()

    assert len(fake.requests) == 1
    assert "Gemini rejected the API key used for gemini-2.5-flash-image" in str(error)
    assert "API key not valid" in str(error)
    assert "GEMINI_API_KEY" in str(error)
    assert "a-wrong-key" not in str(error)


async def test_a_key_that_gemini_echoes_is_redacted(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    gemini_fake.fail(Fault.error(400, f"API key {KEY} is not allowed here"))

    error = await _failure(provider)

    assert KEY not in str(error)
    assert "API key [API key] is not allowed here" in str(error)


def _catalog_with(*extra: ModelInfo) -> Catalog:
    shipped = catalog.load()
    return shipped.merged(Catalog(default=shipped.default, models=list(extra)))


def _model(model_id: str, **fields: object) -> ModelInfo:
    base = catalog.current().get(MODEL).model_dump()
    current = {"lifecycle": "ga", "successor": None, "deprecated": None, "shutdown": None}
    return ModelInfo.model_validate({**base, **current, "id": model_id, "aliases": [], **fields})


@pytest.mark.parametrize("lifecycle", ["deprecated", "shut_down"])
async def test_a_404_for_an_old_model_names_its_successor(
    gemini_fake: FakeGemini, sleeps: Sleeps, lifecycle: str
) -> None:
    dates = {"deprecated": "2026-01-01"} if lifecycle == "deprecated" else {}
    old = _model(
        "gemini-2.0-flash-image", lifecycle=lifecycle, successor=MODEL, shutdown="2026-06-01",
        **dates,
    )  # fmt: skip
    gemini = GeminiProvider(KEY, gemini_fake.base_url, sleep=sleeps, catalog=_catalog_with(old))

    error = await _failure(gemini, old.id)
    await gemini.aclose()

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert str(error).startswith(
        "Gemini no longer serves gemini-2.0-flash-image (HTTP 404 NOT_FOUND: "
        "models/gemini-2.0-flash-image is not found for API version v1"
    )
    said = lifecycle.replace("_", " ")
    assert str(error).endswith(
        f"The model is {said}; switch the node to its successor, gemini-2.5-flash-image."
    )


async def test_a_404_for_a_current_model_says_to_choose_another(
    gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    unknown = _model("gemini-4-image")
    gemini = GeminiProvider(KEY, gemini_fake.base_url, sleep=sleeps, catalog=_catalog_with(unknown))

    error = await _failure(gemini, unknown.id)
    await gemini.aclose()

    assert len(gemini_fake.requests) == 1
    assert isinstance(error, ProviderConfigError)
    assert "Gemini does not know the model gemini-4-image (HTTP 404 NOT_FOUND" in str(error)
    usable = [m.id for m in catalog.current().models if m.lifecycle in ("ga", "preview")]
    assert str(error).endswith(
        f"Switch the node to one of {', '.join(usable)} (the catalog has them), or correct "
        "the model catalog."
    )


async def test_a_404_offers_the_models_this_key_lists_when_its_list_is_known(
    gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    unknown = _model("gemini-4-image")
    gemini = GeminiProvider(KEY, gemini_fake.base_url, sleep=sleeps, catalog=_catalog_with(unknown))
    listed = KeyModels(0.0, {"gemini-4-image": "4", "gemini-3-pro-image-preview": "Pro"})
    gemini.model_list = ModelList(lambda: gemini.client, "k", None, _known=listed)

    error = await _failure(gemini, unknown.id)
    await gemini.aclose()

    assert isinstance(error, ProviderConfigError)
    assert str(error).endswith(  # the key lists Pro by its alias, and no other catalog model
        "Switch the node to one of gemini-3-pro-image (this key's models.list has them), "
        "or correct the model catalog."
    )


async def test_a_blocked_prompt_quotes_the_reason_and_is_not_retried(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.blocked("PROHIBITED_CONTENT", "The prompt was flagged."))

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert not error.retryable
    assert isinstance(error, ProviderInputError)
    assert str(error) == (
        "Gemini blocked the prompt for gemini-2.5-flash-image (block reason PROHIBITED_CONTENT: "
        "The prompt was flagged.). Google's terms forbid what it asks for; change the prompt "
        "or the reference images."
    )


@pytest.mark.parametrize(
    ("reason", "advice"),
    [
        ("SAFETY", "Gemini's safety filters stopped it"),
        ("BLOCKLIST", "a term Gemini's blocklist forbids"),
        ("JAILBREAK", "an attempt to get around its rules"),
        ("IMAGE_SAFETY", "A reference image tripped Gemini's safety filters"),
        ("OTHER", "Gemini's safety filters stopped it"),
    ],
)
async def test_each_prompt_block_reason_has_its_advice(
    provider: GeminiProvider, gemini_fake: FakeGemini, reason: str, advice: str
) -> None:
    gemini_fake.fail(Fault.blocked(reason))

    error = await _failure(provider)

    assert error.category == Category.INPUT
    assert str(error).startswith(
        f"Gemini blocked the prompt for gemini-2.5-flash-image (block reason {reason})."
    )
    assert advice in str(error)


# Every finish reason google-genai's FinishReason lists that can end an image request
# without an image: whose move it is, and the advice that is its alone.
FINISHES = [
    ("IMAGE_SAFETY", Category.INPUT, "safety filters withheld the image it made"),
    ("IMAGE_PROHIBITED_CONTENT", Category.INPUT, "would show content Google's terms forbid"),
    ("SAFETY", Category.INPUT, "Gemini's safety filters stopped it"),
    ("PROHIBITED_CONTENT", Category.INPUT, "Google's terms forbid what the prompt asks for"),
    ("BLOCKLIST", Category.INPUT, "held a blocklisted term"),
    ("SPII", Category.INPUT, "personal information"),
    ("IMAGE_RECITATION", Category.INPUT, "resembled an existing image too closely"),
    ("RECITATION", Category.INPUT, "resembled existing content too closely"),
    ("NO_IMAGE", Category.INPUT, "ask for an image explicitly in the prompt"),
    ("LANGUAGE", Category.INPUT, "language is not supported"),
    ("MAX_TOKENS", Category.INPUT, "ran out of tokens"),
    ("IMAGE_OTHER", Category.BAD_ANSWER, "stopped making the image without saying why"),
    ("MALFORMED_RESPONSE", Category.BAD_ANSWER, "malformed (a fault on Gemini's side)"),
    ("PUP_LIMITED_DISABLED", Category.CONFIGURATION, "Prohibited Use Policy"),
    ("OTHER", Category.BAD_ANSWER, "Gemini did not say why; try again."),
]


@pytest.mark.parametrize(("reason", "category", "advice"), FINISHES)
async def test_each_finish_reason_has_its_own_advice_and_is_not_retried(
    provider: GeminiProvider,
    gemini_fake: FakeGemini,
    sleeps: Sleeps,
    reason: str,
    category: Category,
    advice: str,
) -> None:
    gemini_fake.fail(Fault.empty(reason))

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert not error.retryable
    assert error.category == category
    assert str(error).startswith(
        f"gemini-2.5-flash-image returned no image (finish reason {reason})."
    )
    others = [a for r, _, a in FINISHES if r != reason]
    assert advice in str(error)
    assert not any(other in str(error) for other in others)


@pytest.mark.parametrize(
    ("fault", "kind", "message", "not_said"),
    [
        (
            Fault.text_only("Which lighthouse do you mean?"),
            ProviderInputError,
            "gemini-2.5-flash-image answered in words only, without an image (finish reason "
            'STOP). It said: "Which lighthouse do you mean?" Ask for an image in the prompt '
            "(for example, begin with 'Generate an image of'), or answer its question in the "
            "prompt.",
            "safety",
        ),
        (
            Fault.failed_precondition(),
            ProviderConfigError,
            "Gemini will not serve gemini-2.5-flash-image to this API key from here (HTTP 400 "
            "FAILED_PRECONDITION: User location is not supported for the API use.). The API is "
            "not available in this region, or not without billing: enable billing on the "
            "key's Google Cloud project, or run Plait where the Gemini API is offered.",
            "prompt",
        ),
    ],
    ids=["an answer in words only", "FAILED_PRECONDITION"],
)
async def test_a_refusal_has_its_own_message_and_is_not_retried(
    provider: GeminiProvider,
    gemini_fake: FakeGemini,
    sleeps: Sleeps,
    fault: Fault,
    kind: type[ProviderError],
    message: str,
    not_said: str,
) -> None:
    gemini_fake.fail(fault)

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert type(error) is kind
    assert str(error) == message
    assert not_said not in str(error)  # no safety talk; no "check the prompt"


async def test_a_free_tier_quota_of_zero_is_not_retried_and_says_billing(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.free_tier_quota(MODEL), Fault.free_tier_quota(MODEL))

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 1
    assert sleeps == []
    assert isinstance(error, ProviderConfigError)
    assert not error.retryable
    assert str(error).startswith(
        "Gemini allows this API key no requests to gemini-2.5-flash-image: its quota is 0 "
        "(HTTP 429 RESOURCE_EXHAUSTED: You exceeded your current quota"
    )
    assert str(error).endswith(
        "Image models are not in Gemini's free tier; enable billing on the Google Cloud "
        "project of this key (Google AI Studio, 'Set up billing'), then run again."
    )


async def test_a_spent_quota_above_zero_is_still_retried(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(Fault.error(429, retry_delay="3s"))

    result = await provider.generate(_request())

    assert len(result.images) == 1
    assert sleeps[0] >= 3


async def test_a_5xx_after_the_last_attempt_is_unavailable_with_the_wait_gemini_asked(
    provider: GeminiProvider, gemini_fake: FakeGemini, sleeps: Sleeps
) -> None:
    gemini_fake.fail(*[Fault.error(503, retry_after="9")] * 4)

    error = await _failure(provider)

    assert len(gemini_fake.requests) == 4
    assert isinstance(error, ProviderUnavailable)
    assert error.category == Category.UNAVAILABLE
    assert error.retry_after == 9
    assert str(error) == (
        "Gemini failed 4 attempts at gemini-2.5-flash-image; the last: HTTP 503 UNAVAILABLE: "
        "The model is overloaded. Please try again later. Gemini asked to wait 9 s before "
        "trying again. Gemini is overloaded or failing; try again in a few minutes."
    )


async def test_an_image_type_gemini_does_not_take_is_the_inputs_fault(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    parts = (TextPart("edit"), ImagePart(b"GIF89a....", "image/gif"))

    with pytest.raises(ProviderInputError, match="Unsupported MIME type: image/gif"):
        await provider.generate(ImageRequest(MODEL, parts))


async def test_an_empty_result_quotes_what_the_model_said_instead(
    provider: GeminiProvider, gemini_fake: FakeGemini
) -> None:
    gemini_fake.fail(Fault.empty("NO_IMAGE", "I can only describe a lighthouse."))

    error = await _failure(provider)

    assert str(error) == (
        'gemini-2.5-flash-image returned no image (finish reason NO_IMAGE). It said: "I can '
        'only describe a lighthouse." The model was asked for an image but made none; ask for '
        "an image explicitly in the prompt (for example, begin with 'Generate an image of')."
    )


# --- the policy itself ------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_and_jitter_spans_it() -> None:
    top = RetryPolicy(base_delay=1, max_delay=10, jitter=lambda: 1.0)
    bottom = RetryPolicy(base_delay=1, max_delay=10, jitter=lambda: 0.0)

    assert [top.delay(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]
    assert [bottom.delay(n) for n in range(1, 7)] == [0] * 6


def test_retry_after_is_a_floor_under_the_jittered_backoff() -> None:
    policy = RetryPolicy(jitter=lambda: 0.5)

    assert policy.delay(3, retry_after=7) == 7
    assert policy.delay(3, retry_after=1) == 2  # half of the 4 s step


async def test_the_policy_returns_the_first_success() -> None:
    sleeps = Sleeps()
    outcomes: list[Exception | str] = [Transient("a", "b"), Transient("c", "d"), "ok"]
    calls = 0

    async def attempt() -> str:
        nonlocal calls
        calls += 1
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert await RetryPolicy(sleep=sleeps, jitter=lambda: 1.0).run(attempt) == "ok"
    assert calls == 3
    assert sleeps == [1.0, 2.0]


async def test_the_policy_gives_up_after_its_attempts_with_the_last_failure() -> None:
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise Transient(f"failure {calls}", "advice")

    with pytest.raises(RetriesExhausted) as caught:
        await RetryPolicy(attempts=3, sleep=Sleeps()).run(attempt)

    assert calls == 3
    assert (caught.value.attempts, caught.value.last.problem) == (3, "failure 3")


async def test_other_errors_pass_through_without_a_retry() -> None:
    calls = 0

    async def attempt() -> None:
        nonlocal calls
        calls += 1
        raise ProviderError("no")

    with pytest.raises(ProviderError):
        await RetryPolicy(sleep=Sleeps()).run(attempt)
    assert calls == 1


def test_a_policy_needs_an_attempt() -> None:
    with pytest.raises(ValueError, match="at least one attempt"):
        RetryPolicy(attempts=0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        (format_datetime(datetime.fromtimestamp(NOW + 90, UTC), usegmt=True), 90.0),
        ("Thu, 15 Jan 2027 08:00:30 -0000", 1_800_000_030.0 - NOW),
        (format_datetime(datetime.fromtimestamp(NOW - 90, UTC), usegmt=True), 0.0),
        ("soon", None),
        ("-3", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_headers_parse_to_seconds_from_now(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, lambda: NOW) == seconds


async def test_plait_gemini_attempts_sets_the_number_of_attempts(
    gemini_fake: FakeGemini, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_GEMINI_ATTEMPTS", "2")
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    monkeypatch.setenv("PLAIT_GEMINI_BASE_URL", gemini_fake.base_url)
    gemini_fake.fail(*[Fault.error(500)] * 6)
    gemini = make_provider(Settings(_env_file=None), "gemini")
    assert isinstance(gemini, GeminiProvider)

    error = await _failure(gemini)
    await gemini.aclose()

    assert len(gemini_fake.requests) == 2
    assert "failed 2 attempts" in str(error)
