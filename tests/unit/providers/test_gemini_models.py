"""The key's own model list: `models.list` through the real SDK against the fake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from plait.engine.context import Services
from plait.engine.executor import Executor
from plait.engine.state import RunStatus
from plait.flows.model import Flow, NodeSpec
from plait.flows.validate import compile_flow
from plait.media.blobs import LocalBlobStore
from plait.nodes.registry import builtin
from plait.providers import catalog, gemini_models
from plait.providers.factory import make_provider
from plait.providers.gemini import GeminiProvider
from plait.providers.gemini_models import KeyModels, ModelList
from plait.settings import Settings
from tests.fakes.gemini import FakeGemini, ModelListing

KEY = "test-key-models"


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _settings(fake: FakeGemini, data_dir: Path) -> Settings:
    return Settings.model_validate(
        {"GEMINI_API_KEY": KEY, "PLAIT_GEMINI_BASE_URL": fake.base_url, "PLAIT_DATA_DIR": data_dir}
    )


def _list_calls(fake: FakeGemini) -> list[str]:
    return [r.path for r in fake.requests if r.method == "GET" and r.path.endswith("/models")]


async def test_every_page_of_the_list_is_read_through_the_sdk(
    gemini_fake: FakeGemini, tmp_path: Path
) -> None:
    gemini_fake.listing = ModelListing(max_page=2)  # 3 pages for the 6 models
    provider = GeminiProvider(KEY, gemini_fake.base_url)
    listed = await gemini_models.fetch(provider.client)
    await provider.aclose()

    served = [m.id for m in catalog.current().models if m.runs]
    assert set(listed.models) == {*served, "gemini-3.1-flash-lite"}  # embeddings do not generate
    pages = [r for r in gemini_fake.requests if r.path.endswith("/models")]
    assert [r.query.get("pageToken") for r in pages] == [None, "2", "4"]
    assert {r.path for r in pages} == {"/v1beta/models"}  # Plait pins v1beta (providers/gemini.py)
    assert all(r.headers["x-goog-api-key"] == KEY for r in pages)


async def test_a_bad_key_is_a_clear_error(gemini_fake: FakeGemini) -> None:
    gemini_fake.api_key = "the-right-key"
    provider = GeminiProvider("wrong", gemini_fake.base_url)
    with pytest.raises(gemini_models.ModelListError, match=r"HTTP 400.*Check the API key"):
        await gemini_models.fetch(provider.client)
    await provider.aclose()


async def test_the_list_is_cached_for_a_day_then_asked_for_again(
    gemini_fake: FakeGemini, tmp_path: Path
) -> None:
    clock = Clock()
    cache = tmp_path / "gemini-models.json"
    provider = GeminiProvider(KEY, gemini_fake.base_url)
    key_id = gemini_models.fingerprint(KEY, gemini_fake.base_url)
    models = ModelList.of(provider, key_id=key_id, cache_file=cache)
    models.clock = clock

    first = await models.get()
    clock.now += 23 * 3600
    again = await ModelList(models.client, key_id, cache, clock=clock).get()  # from the file
    assert again == first
    assert len(_list_calls(gemini_fake)) == 1
    clock.now += 2 * 3600
    await models.get()
    assert len(_list_calls(gemini_fake)) == 2
    await models.get(refresh=True)  # plait models --check
    assert len(_list_calls(gemini_fake)) == 3
    await provider.aclose()

    stored = json.loads(cache.read_text())
    assert list(stored) == [key_id]
    assert KEY not in cache.read_text()


async def test_a_failed_list_blocks_nothing_and_is_not_asked_for_on_every_run(
    tmp_path: Path,
) -> None:
    clock = Clock()
    with FakeGemini() as fake:
        url = fake.base_url
    provider = GeminiProvider(KEY, url, attempts=1)  # nothing listens there any more
    models = ModelList.of(provider, key_id="k", cache_file=None)
    models.clock = clock
    assert await models.usable_or_unknown() is None
    assert await models.usable_or_unknown() is None  # within 5 minutes: not asked again
    await provider.aclose()


def _image_flow(model: str) -> Flow:
    return Flow(nodes=[NodeSpec(id="poster", type="image", config={"model": model, "prompt": "x"})])


async def test_a_run_on_a_model_the_key_lacks_fails_before_the_paid_call(
    gemini_fake: FakeGemini, tmp_path: Path
) -> None:
    gemini_fake.listing = ModelListing(models=("gemini-3.1-flash-lite-image", "gemini-3-pro-image"))
    provider = make_provider(_settings(gemini_fake, tmp_path), "gemini")
    services = Services(LocalBlobStore(tmp_path / "blobs"), lambda: provider, tmp_path)
    compiled = compile_flow(_image_flow("gemini-nano-banana-2.1"), builtin())

    result = await Executor(compiled, services, run_id="r").run()
    await provider.aclose()

    assert result.status == RunStatus.FAILED
    assert result.failed_node == "poster"
    assert result.nodes["poster"].error == (
        "gemini-nano-banana-2.1 is not in this Gemini API key's model list (models.list), so "
        "Gemini would refuse it; models this key can use: gemini-3.1-flash-lite-image, "
        "gemini-3-pro-image. Change the node's model, or run `plait models --check` if the "
        "key's access has changed."
    )
    assert gemini_fake.generate_requests() == []  # nothing was paid for


async def test_a_run_on_a_listed_model_goes_ahead(gemini_fake: FakeGemini, tmp_path: Path) -> None:
    provider = make_provider(_settings(gemini_fake, tmp_path), "gemini")
    services = Services(LocalBlobStore(tmp_path / "blobs"), lambda: provider, tmp_path)
    compiled = compile_flow(_image_flow("gemini-3-pro-image-preview"), builtin())  # an alias

    result = await Executor(compiled, services, run_id="r").run()
    await provider.aclose()

    assert result.status == RunStatus.SUCCEEDED, result.error
    assert len(gemini_fake.generate_requests()) == 1
    assert (tmp_path / gemini_models.CACHE_FILE).exists()


def test_models_the_key_lists_but_the_catalog_lacks() -> None:
    listed = KeyModels(0.0, {"gemini-4-flash-image": "x", "gemini-3-pro-image": "y", "veo-3": "z"})
    assert gemini_models.not_in_catalog(catalog.current(), listed) == ["gemini-4-flash-image"]
    available = gemini_models.availability(catalog.current(), listed)
    assert available["gemini-3-pro-image"] is True
    assert available["gemini-nano-banana-2.1"] is False


async def test_the_fake_lists_on_v1beta_too(gemini_fake: FakeGemini) -> None:
    from google import genai
    from google.genai import types

    gemini_fake.listing = ModelListing(models=("gemini-nano-banana-2.1",))
    options = types.HttpOptions(base_url=gemini_fake.base_url, api_version="v1beta")
    client = genai.Client(api_key=KEY, http_options=options)
    listed = await gemini_models.fetch(client)
    await client.aio.aclose()

    assert listed.models == {"gemini-nano-banana-2.1": "Gemini Nano Banana 2.1"}
    assert [r.path for r in gemini_fake.requests] == ["/v1beta/models"]


async def test_the_key_list_is_on_the_provider_seam_and_its_wrappers_forward_it(
    gemini_fake: FakeGemini, tmp_path: Path
) -> None:
    from plait.batch.driver import LimitedProvider
    from plait.batch.limiter import AimdLimiter
    from plait.providers.gemini_batch import GeminiBatchApi

    settings = _settings(gemini_fake, tmp_path)
    provider = make_provider(settings)
    assert make_provider(settings, "preview").model_list is None
    try:
        listed = provider.model_list
        assert isinstance(listed, ModelList)
        assert listed.key_id == gemini_models.fingerprint(KEY, gemini_fake.base_url)
        assert listed.cache_file == tmp_path / gemini_models.CACHE_FILE
        assert LimitedProvider(provider, AimdLimiter(2)).model_list is listed
        assert isinstance(provider, GeminiProvider)
        assert GeminiBatchApi(provider).model_list is listed
    finally:
        await provider.aclose()
