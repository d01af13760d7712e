"""What a published caller gets when Gemini does not make the image: a JSON answer whose
status says whose move it is (422 the flow's input, 502/503/504 Gemini's side or Plait's
set-up, with Retry-After when Gemini named a wait), never a bare 500.

A real server drives the real SDK against the fake Gemini; each case scripts one answer."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from plait.providers import catalog
from tests.fakes.gemini import FakeGemini, Fault, ModelListing
from tests.integration.api import flows
from tests.server import LiveServer, server_settings

MODEL = "gemini-2.5-flash-image"
UNLISTED = "gemini-3-pro-image"  # a catalog model this key's models.list lacks


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGemini]:
    with FakeGemini() as gemini:
        served = [m.id for m in catalog.current().models if m.runs and m.id != UNLISTED]
        gemini.listing = ModelListing(models=tuple(served))
        yield gemini


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake: FakeGemini) -> Iterator[LiveServer]:
    settings = server_settings(
        tmp_path_factory.mktemp("answers") / "data",
        PLAIT_IMAGE_BACKEND="gemini",
        GEMINI_API_KEY="test-key-7f3a",
        PLAIT_GEMINI_BASE_URL=fake.base_url,
        PLAIT_GEMINI_ATTEMPTS="1",  # the first failure is the last: no backoff to wait out
        PLAIT_GEMINI_TIMEOUT="1",
        PLAIT_RATE_LIMIT="1000",
    )
    with LiveServer(settings) as live:
        yield live


@pytest.fixture(scope="module")
def endpoint(server: LiveServer) -> str:
    with server.admin() as admin:
        publication = flows.publish(admin, flows.create(admin, flows.image_endpoint()))
    return f"/api/trigger/{publication['secret']}/trigger"


def _call(server: LiveServer, endpoint: str, fake: FakeGemini, fault: Fault) -> httpx.Response:
    fake.fail(fault)
    with server.client() as caller:
        return caller.post(endpoint, json={"prompt": "a lighthouse at dusk"})


CASES = [
    # (fault, status, category, fault's side, words the message must hold)
    (
        Fault.text_only("Which lighthouse do you mean?"),
        422, "input", "input",
        ['answered in words only', 'It said: "Which lighthouse do you mean?"',
         "Ask for an image in the prompt"],
    ),
    (Fault.empty("IMAGE_SAFETY"), 422, "input", "input", ["withheld the image it made"]),
    (Fault.empty("IMAGE_PROHIBITED_CONTENT"), 422, "input", "input", ["Google's terms forbid"]),
    (Fault.empty("IMAGE_RECITATION"), 422, "input", "input", ["resembled an existing image"]),
    (Fault.empty("NO_IMAGE"), 422, "input", "input", ["ask for an image explicitly"]),
    (Fault.empty("SAFETY"), 422, "input", "input", ["safety filters stopped it"]),
    (Fault.empty("RECITATION"), 422, "input", "input", ["resembled existing content"]),
    (Fault.empty("PROHIBITED_CONTENT"), 422, "input", "input", ["terms forbid what the prompt"]),
    (Fault.empty("BLOCKLIST"), 422, "input", "input", ["blocklisted term; reword the prompt"]),
    (Fault.empty("SPII"), 422, "input", "input", ["personal information"]),
    (Fault.empty("LANGUAGE"), 422, "input", "input", ["language is not supported"]),
    (Fault.empty("MAX_TOKENS"), 422, "input", "input", ["ran out of tokens"]),
    (
        Fault.empty("PUP_LIMITED_DISABLED"), 502, "configuration", "configuration",
        ["Prohibited Use Policy", "Google AI Studio page"],
    ),
    (
        Fault.empty("FINISH_REASON_UNSPECIFIED"), 502, "bad_answer", "provider",
        ["finish reason FINISH_REASON_UNSPECIFIED", "Gemini did not say why; try again"],
    ),
    (
        Fault.empty("IMAGE_OTHER"), 502, "bad_answer", "provider",
        ["stopped making the image without saying why; try again"],
    ),
    (
        Fault.empty("MALFORMED_RESPONSE"), 502, "bad_answer", "provider",
        ["malformed (a fault on Gemini's side); try again"],
    ),
    (
        Fault.blocked("PROHIBITED_CONTENT", "The prompt was flagged."), 422, "input", "input",
        ["Gemini blocked the prompt", "block reason PROHIBITED_CONTENT"],
    ),
    (
        Fault.blocked("JAILBREAK"), 422, "input", "input",
        ["block reason JAILBREAK", "an attempt to get around its rules; reword it"],
    ),
    (
        Fault.blocked("IMAGE_SAFETY"), 422, "input", "input",
        ["block reason IMAGE_SAFETY", "A reference image tripped"],
    ),
    (Fault.blocked("BLOCKLIST"), 422, "input", "input", ["blocklist forbids; reword it"]),
    (Fault.blocked("OTHER"), 422, "input", "input", ["block reason OTHER", "safety filters"]),
    (
        Fault.error(400, "Unable to process input image."), 422, "input", "input",
        ["Check the prompt, the reference images"],
    ),
    (
        Fault.failed_precondition(), 502, "configuration", "configuration",
        ["FAILED_PRECONDITION", "enable billing", "region"],
    ),
    (
        Fault.free_tier_quota(MODEL), 502, "configuration", "configuration",
        ["its quota is 0", "Image models are not in Gemini's free tier; enable billing"],
    ),
    (
        Fault.error(404, f"models/{MODEL} is not found for API version v1beta"),
        502, "configuration", "configuration", ["HTTP 404 NOT_FOUND", "witch the node to"],
    ),
    (
        Fault.error(403, "Your project has been denied access."),
        502, "configuration", "configuration", ["Check that the API key is valid"],
    ),
    (
        Fault.error(500), 503, "unavailable", "provider",
        ["HTTP 500 INTERNAL", "Gemini is overloaded or failing; try again in a few minutes"],
    ),
    (
        Fault.hang_for(20), 504, "timeout", "provider",
        ["no answer within 1 s", "PLAIT_GEMINI_TIMEOUT (now 1 s)"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("fault", "status", "category", "side", "words"), CASES)
def test_each_gemini_outcome_reaches_the_caller_with_its_status_and_message(
    server: LiveServer,
    endpoint: str,
    fake: FakeGemini,
    fault: Fault,
    status: int,
    category: str,
    side: str,
    words: list[str],
) -> None:
    answer = _call(server, endpoint, fake, fault)

    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert (body["category"], body["fault"], body["node_id"]) == (category, side, "image")
    assert body["detail"].startswith("node 'image': ")
    assert answer.headers["x-plait-run-id"] == body["run_id"]
    assert MODEL in body["detail"]
    for word in words:
        assert word in body["detail"]
    assert "retry-after" not in answer.headers  # Gemini named no wait


@pytest.mark.parametrize(
    "fault",
    [Fault.error(503, retry_after="9"), Fault.error(429, retry_delay="9s")],
    ids=["503 with Retry-After", "429 with RetryInfo"],
)
def test_a_wait_gemini_names_reaches_the_caller_as_retry_after(
    server: LiveServer, endpoint: str, fake: FakeGemini, fault: Fault
) -> None:
    answer = _call(server, endpoint, fake, fault)

    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "9"
    assert answer.json()["category"] == "unavailable"
    assert "Gemini asked to wait 9 s" in answer.json()["detail"]


def test_a_repeated_idempotency_key_gets_the_same_status_from_the_record(
    server: LiveServer, endpoint: str, fake: FakeGemini
) -> None:
    fake.fail(Fault.empty("IMAGE_SAFETY"))
    headers = {"Idempotency-Key": "safety-once"}
    with server.client() as caller:
        first = caller.post(endpoint, json={"prompt": "x"}, headers=headers)
        again = caller.post(endpoint, json={"prompt": "x"}, headers=headers)

    assert first.status_code == again.status_code == 422
    assert again.json()["run_id"] == first.json()["run_id"]
    assert again.json()["category"] == "input"


def test_a_model_this_key_does_not_list_is_refused_before_the_paid_call(
    server: LiveServer, fake: FakeGemini
) -> None:
    document = flows.image_endpoint()
    document["nodes"][1]["config"]["model"] = UNLISTED
    with server.admin() as admin:
        secret = flows.publish(admin, flows.create(admin, document))["secret"]
    paid_before = len(fake.generate_requests())
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "a lighthouse"})

    assert answer.status_code == 502, answer.text
    body = answer.json()
    assert (body["category"], body["fault"], body["node_id"]) == (
        "configuration", "configuration", "image",
    )  # fmt: skip
    assert body["detail"].startswith(
        f"node 'image': {UNLISTED} is not in this Gemini API key's model list (models.list)"
    )
    assert "models this key can use: gemini-nano-banana-2.1," in body["detail"]
    assert len(fake.generate_requests()) == paid_before  # nothing was paid for


def test_a_404_for_a_model_without_successor_names_the_models_this_key_lists(
    server: LiveServer, fake: FakeGemini
) -> None:
    document = flows.image_endpoint()
    document["nodes"][1]["config"]["model"] = "gemini-3.1-flash-lite-image"  # GA, no successor
    with server.admin() as admin:
        secret = flows.publish(admin, flows.create(admin, document))["secret"]
    fake.fail(Fault.error(404, "models/gemini-3.1-flash-lite-image is not found"))
    with server.client() as caller:
        answer = caller.post(f"/api/trigger/{secret}/trigger", json={"prompt": "a lighthouse"})

    assert answer.status_code == 502, answer.text
    body = answer.json()
    assert (body["category"], body["fault"]) == ("configuration", "configuration")
    assert body["detail"] == (
        "node 'image': Gemini does not know the model gemini-3.1-flash-lite-image (HTTP 404 "
        "NOT_FOUND: models/gemini-3.1-flash-lite-image is not found). Switch the node to one "
        "of gemini-nano-banana-2.1, gemini-2.5-flash-image (this key's models.list has "
        "them), or correct the model catalog."
    )
