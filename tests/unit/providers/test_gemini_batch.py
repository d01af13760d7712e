"""Gemini Batch API answers: each per-row error (a `google.rpc.Status`) as a user reads it."""

from __future__ import annotations

import base64
import io
import json
import tempfile
from collections.abc import Iterator

import pytest
from google.genai import types

from plait.errors import ProviderError
from plait.providers import catalog, gemini_results
from plait.providers.base import ImagePart, ImageRequest, TextPart
from plait.providers.gemini import GeminiProvider, build_config, build_contents
from plait.providers.gemini_batch import KEY, GeminiBatchApi, _write_requests, row_error
from plait.providers.gemini_results import ResultFile
from tests.fakes.gemini import FakeGemini, png

MODEL = catalog.current().get("gemini-2.5-flash-image")
JOB = "batches/abc"


def _error(code: int | None, message: str | None = "It said so.") -> str:
    error = row_error(JOB, MODEL, types.JobError(code=code, message=message), lambda m: m)
    text = str(error)
    assert "HTTP" not in text  # a gRPC code is not an HTTP status
    assert text.startswith(f"Gemini's batch job {JOB} ")
    assert MODEL.id in text
    return text


@pytest.mark.parametrize(
    ("code", "name"),
    [
        (4, "DEADLINE_EXCEEDED"),
        (8, "RESOURCE_EXHAUSTED"),
        (10, "ABORTED"),
        (13, "INTERNAL"),
        (14, "UNAVAILABLE"),
        (2, "UNKNOWN"),
    ],
)
def test_a_temporary_code_says_so_and_does_not_blame_the_row(code: int, name: str) -> None:
    text = _error(code)

    assert f"could not answer this row's request to {MODEL.id} ({name}: It said so)" in text
    assert "temporary on Google's side, not the row's fault" in text
    assert "plait batch --retry-failed" in text
    assert "prompt" not in text
    assert row_error(JOB, MODEL, types.JobError(code=code), lambda m: m).retryable


def test_invalid_argument_points_at_the_row() -> None:
    text = _error(3, "Request contains an invalid argument.")

    assert "refused this row's request" in text
    assert "(INVALID_ARGUMENT: Request contains an invalid argument)" in text
    assert "check the prompt, the reference images and the image settings" in text
    assert "temporary" not in text


def test_failed_precondition_points_at_the_project_not_the_prompt() -> None:
    text = _error(9, "User location is not supported for the API use.")

    assert "(FAILED_PRECONDITION: User location is not supported for the API use)" in text
    assert "not this row" in text
    assert "billing enabled and a supported region" in text
    assert "prompt" not in text


@pytest.mark.parametrize(
    ("code", "name", "advice"),
    [
        (7, "PERMISSION_DENIED", "may not use this model"),
        (16, "UNAUTHENTICATED", "GEMINI_API_KEY"),
        (5, "NOT_FOUND", "plait models"),
        (11, "OUT_OF_RANGE", "out of range"),
    ],
)
def test_other_refusals_name_the_code_and_what_to_do(code: int, name: str, advice: str) -> None:
    text = _error(code)

    assert f"({name}: It said so)" in text
    assert advice in text
    assert not row_error(JOB, MODEL, types.JobError(code=code), lambda m: m).retryable


def test_an_unknown_code_or_none_is_still_named() -> None:
    assert "(code 99: It said so)" in _error(99)
    assert "(UNKNOWN: no message)" in _error(None, None)


def test_the_key_is_redacted_from_the_message() -> None:
    error = row_error(
        JOB,
        MODEL,
        types.JobError(code=3, message="bad key SECRET"),
        lambda m: m.replace("SECRET", "[API key]"),
    )

    assert "bad key [API key]" in str(error)
    assert "SECRET" not in str(error)


@pytest.fixture
def file() -> Iterator[io.BufferedRandom]:
    with tempfile.TemporaryFile() as opened:
        yield opened


def _result_file(file: io.BufferedRandom, *lines: bytes) -> ResultFile:
    file.write(b"".join(lines))
    return ResultFile(JOB, file, gemini_results._index(JOB, file))


def test_a_result_file_is_indexed_by_key_and_each_answer_read_when_asked(
    file: io.BufferedRandom,
) -> None:
    response = {"candidates": [{"content": {"parts": [{"text": "hi"}]}, "finishReason": "STOP"}]}
    results = _result_file(
        file,
        json.dumps({"key": "a", "response": response}).encode() + b"\n",
        b"\n",
        json.dumps({"key": "b", "error": {"code": 14, "message": "later"}}).encode() + b"\n",
        json.dumps({"key": "c", "status": {"code": 3, "message": "bad", "details": []}}).encode(),
    )

    assert sorted(results) == ["a", "b", "c"]
    answer = results["a"]
    assert answer.response is not None
    assert answer.response.text == "hi"
    assert answer.error is None
    assert results["b"].error == types.JobError(code=14, message="later")
    assert results["c"].error == types.JobError(code=3, message="bad")
    assert results.get("d") is None


def test_an_unreadable_result_line_names_the_line_and_the_job(file: io.BufferedRandom) -> None:
    with pytest.raises(ProviderError, match=r"line 2 of the result file of Gemini's batch job "):
        _result_file(file, b'{"key": "a"}\n', b"not json\n")


async def test_the_inline_size_is_measured_as_the_sdk_sends_it(gemini_fake: FakeGemini) -> None:
    requests = [
        (f"{n}.1.image.abc.0", ImageRequest(MODEL.id, (TextPart(f"kite {n} ü"), _png(n)), "1:1"))
        for n in range(5)
    ]
    inlined = [
        types.InlinedRequest(
            contents=build_contents(r.parts), config=build_config(r), metadata={KEY: key}
        )
        for key, r in requests
    ]
    gemini = GeminiProvider("k", gemini_fake.base_url, attempts=1)
    try:
        await GeminiBatchApi(gemini).submit(MODEL.id, requests, "plait batch 0123456789ab #1")
        with tempfile.TemporaryFile() as file:
            measured = _write_requests(gemini.client._api_client, inlined, file)
    finally:
        await gemini.aclose()

    [create] = gemini_fake.batch_creates()
    sent = int(create.headers["content-length"])
    images = sum(
        len(base64.b64encode(p.data))
        for _, r in requests
        for p in r.parts[1:]
        if isinstance(p, ImagePart)
    )
    assert sent > images  # the images went inline, base64
    assert sent <= measured <= sent + 256  # never under: over the limit means over it


def _png(n: int) -> ImagePart:
    return ImagePart(png(64, 64, (n, 2, 3)), "image/png")
