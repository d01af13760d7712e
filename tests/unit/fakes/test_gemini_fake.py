"""The fake Gemini itself: wire format, images, recording, injected behaviour, batches."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import types
from PIL import Image

from tests import loopback
from tests.fakes.gemini import FakeGemini, Fault, png

ROOT = Path(__file__).resolve().parents[3]
FLASH = "gemini-2.5-flash-image"
FAKE_503 = "The model is overloaded. Please try again later."


@pytest.fixture
async def client(gemini_fake: FakeGemini) -> AsyncIterator[genai.Client]:
    sdk = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=gemini_fake.base_url))
    yield sdk
    await sdk.aio.aclose()


def _post(fake: FakeGemini, path: str, body: Any, key: str | None = "k") -> httpx.Response:
    headers = {"x-goog-api-key": key} if key else {}
    return loopback.post(fake.base_url + path, json=body, headers=headers, timeout=30)


def _image(response: dict[str, Any]) -> bytes:
    parts = response["candidates"][0]["content"]["parts"]
    (data,) = [p["inlineData"]["data"] for p in parts if "inlineData" in p]
    return base64.b64decode(data)


def _parts(response: types.GenerateContentResponse) -> list[types.Part]:
    candidate = response.candidates[0] if response.candidates else None
    content = candidate.content if candidate else None
    return list(content.parts or []) if content else []


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


REFERENCE = base64.b64encode(png(4, 4, (1, 2, 3))).decode()
CAMEL = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "a kite"},
                {"inlineData": {"mimeType": "image/png", "data": REFERENCE}},
            ],
        }
    ],
    "generationConfig": {
        "responseModalities": ["TEXT", "IMAGE"],
        "imageConfig": {"aspectRatio": "4:3", "imageSize": "2K"},
    },
}
SNAKE = {
    "contents": [
        {
            "role": "user",
            "parts": [
                {"text": "a kite"},
                {"inline_data": {"mime_type": "image/png", "data": REFERENCE}},
            ],
        }
    ],
    "generation_config": {
        "response_modalities": ["TEXT", "IMAGE"],
        "image_config": {"aspect_ratio": "4:3", "image_size": "2K"},
    },
}


# --- wire format ------------------------------------------------------------------------


def test_camel_and_snake_case_requests_get_the_same_camel_case_answer(
    gemini_fake: FakeGemini,
) -> None:
    path = "/v1beta/models/gemini-3.1-flash-image:generateContent"
    camel = _post(gemini_fake, path, CAMEL)
    snake = _post(gemini_fake, path, SNAKE)

    assert camel.status_code == snake.status_code == 200
    assert _image(camel.json()) == _image(snake.json())
    assert _size(_image(camel.json())) == (2400, 1792)
    body = camel.json()
    assert set(body) == {"candidates", "usageMetadata", "modelVersion", "responseId"}
    assert set(body["candidates"][0]) == {"content", "finishReason", "index"}
    assert set(body["usageMetadata"]) == {
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
        "promptTokensDetails",
        "candidatesTokensDetails",
    }
    first, second = gemini_fake.requests
    assert first.parts() == second.parts()


def test_usage_counts_prompt_text_images_and_output(gemini_fake: FakeGemini) -> None:
    usage = _post(gemini_fake, f"/v1/models/{FLASH}:generateContent", CAMEL_FLASH).json()[
        "usageMetadata"
    ]

    assert usage["promptTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": 2},
        {"modality": "IMAGE", "tokenCount": 258},
    ]
    assert usage["candidatesTokensDetails"] == [
        {"modality": "TEXT", "tokenCount": 8},
        {"modality": "IMAGE", "tokenCount": 1300},
    ]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


CAMEL_FLASH = {"contents": CAMEL["contents"]}


@pytest.mark.parametrize("version", ["v1", "v1beta"])
def test_both_api_versions_are_served(gemini_fake: FakeGemini, version: str) -> None:
    response = _post(gemini_fake, f"/{version}/models/{FLASH}:generateContent", CAMEL_FLASH)

    assert response.status_code == 200
    assert gemini_fake.requests[0].api_version == version


def test_an_unknown_path_is_a_google_style_404(gemini_fake: FakeGemini) -> None:
    response = _post(gemini_fake, f"/v2/models/{FLASH}:generateContent", CAMEL_FLASH)

    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


def test_an_unknown_model_is_a_404_like_googles(gemini_fake: FakeGemini) -> None:
    response = _post(gemini_fake, "/v1beta/models/gemini-9-image:generateContent", CAMEL_FLASH)

    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "code": 404,
            "message": "models/gemini-9-image is not found for API version v1beta, or is not "
            "supported for generateContent. Call ListModels to see the list of available models "
            "and their supported methods.",
            "status": "NOT_FOUND",
        }
    }


@pytest.mark.parametrize(
    ("model", "image_config", "message"),
    [
        (FLASH, {"aspectRatio": "8:1"}, "Unsupported aspect ratio: 8:1"),
        (FLASH, {"imageSize": "2K"}, "Unsupported image size: 2K"),
        ("gemini-3-pro-image", {"imageSize": "512"}, "Unsupported image size: 512"),
    ],
)
def test_a_ratio_or_size_the_model_lacks_is_a_400(
    gemini_fake: FakeGemini, model: str, image_config: dict[str, str], message: str
) -> None:
    body = {**CAMEL_FLASH, "generationConfig": {"imageConfig": image_config}}

    response = _post(gemini_fake, f"/v1/models/{model}:generateContent", body)

    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert message in response.json()["error"]["message"]


def test_every_request_is_recorded_with_headers_and_body(gemini_fake: FakeGemini) -> None:
    _post(gemini_fake, f"/v1/models/{FLASH}:generateContent", CAMEL, key="secret-1")

    (recorded,) = gemini_fake.requests
    assert (recorded.method, recorded.model) == ("POST", FLASH)
    assert recorded.headers["x-goog-api-key"] == "secret-1"
    assert recorded.body == CAMEL
    assert recorded.image_config() == {"aspectRatio": "4:3", "imageSize": "2K"}


# --- images -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [(1, 1), (3, 2), (1024, 1024), (1536, 192), (848, 1264)])
def test_pngs_decode_to_exactly_the_size_and_colour(size: tuple[int, int]) -> None:
    data = png(*size, (200, 16, 99))

    with Image.open(io.BytesIO(data)) as img:
        assert (img.size, img.mode) == (size, "RGB")
        assert img.getextrema() == ((200, 200), (16, 16), (99, 99))
    idat_length = struct.unpack(">I", data[33:37])[0]
    assert data[37:41] == b"IDAT"
    raw = zlib.decompress(data[41 : 41 + idat_length])  # checks the Adler-32 we combined
    assert len(raw) == size[1] * (1 + 3 * size[0])


def test_images_differ_by_request_and_repeat_for_the_same_request(gemini_fake: FakeGemini) -> None:
    path = f"/v1/models/{FLASH}:generateContent"
    other = {"contents": [{"parts": [{"text": "a different kite"}]}]}

    first, again, different = (
        _post(gemini_fake, path, b).json() for b in (CAMEL_FLASH, CAMEL_FLASH, other)
    )

    assert _image(first) == _image(again) != _image(different)


# --- injected behaviour -----------------------------------------------------------------


def test_faults_answer_the_next_requests_in_order(gemini_fake: FakeGemini) -> None:
    gemini_fake.fail(Fault.error(429, retry_after="9"), Fault.error(503))
    path = f"/v1/models/{FLASH}:generateContent"

    first, second, third = (_post(gemini_fake, path, CAMEL_FLASH) for _ in range(3))

    assert (first.status_code, second.status_code, third.status_code) == (429, 503, 200)
    assert first.headers["retry-after"] == "9"
    assert first.json()["error"] == {
        "code": 429,
        "message": "Resource has been exhausted (e.g. check quota).",
        "status": "RESOURCE_EXHAUSTED",
    }
    assert second.json()["error"]["status"] == "UNAVAILABLE"


def test_blocked_and_empty_faults_answer_200_without_an_image(gemini_fake: FakeGemini) -> None:
    gemini_fake.fail(Fault.blocked("SAFETY"), Fault.empty("IMAGE_SAFETY"))
    path = f"/v1/models/{FLASH}:generateContent"

    blocked, empty = (_post(gemini_fake, path, CAMEL_FLASH).json() for _ in range(2))

    assert blocked["promptFeedback"] == {"blockReason": "SAFETY"}
    assert "candidates" not in blocked
    assert empty["candidates"] == [{"finishReason": "IMAGE_SAFETY", "index": 0}]


def test_the_rate_limit_answers_429_with_retry_after(gemini_fake: FakeGemini) -> None:
    gemini_fake.rate_limit = 2
    path = f"/v1/models/{FLASH}:generateContent"

    answers = [_post(gemini_fake, path, CAMEL_FLASH) for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 200, 429]
    assert 0 < int(answers[2].headers["retry-after"]) <= 60


def test_latency_delays_each_answer(gemini_fake: FakeGemini) -> None:
    gemini_fake.latency = 0.2
    started = time.monotonic()

    _post(gemini_fake, f"/v1/models/{FLASH}:generateContent", CAMEL_FLASH)

    assert time.monotonic() - started >= 0.2


def test_with_a_key_set_requests_must_carry_it() -> None:
    with FakeGemini(api_key="right") as fake:
        path = f"/v1/models/{FLASH}:generateContent"
        missing = _post(fake, path, CAMEL_FLASH, key=None)
        wrong = _post(fake, path, CAMEL_FLASH, key="wrong")
        right = _post(fake, path, CAMEL_FLASH, key="right")

    assert (missing.status_code, wrong.status_code, right.status_code) == (403, 400, 200)
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


async def test_a_hundred_concurrent_requests_are_served_together(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    gemini_fake.hold(100)  # nobody is answered until all hundred are in flight

    responses = await asyncio.gather(
        *(client.aio.models.generate_content(model=FLASH, contents=f"kite {i}") for i in range(100))
    )

    assert gemini_fake.max_in_flight == 100
    assert all(r.candidates and r.candidates[0].finish_reason == "STOP" for r in responses)


# --- streaming and batches, through the SDK ---------------------------------------------


async def test_the_sse_stream_sends_text_then_the_image_then_usage(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    stream = await client.aio.models.generate_content_stream(model=FLASH, contents="a kite")
    chunks = [chunk async for chunk in stream]

    assert gemini_fake.requests[0].path == f"/v1/models/{FLASH}:streamGenerateContent"
    assert gemini_fake.requests[0].query == {"alt": "sse"}
    parts = [part for chunk in chunks for part in _parts(chunk)]
    assert [p.text is not None for p in parts] == [True, False]
    assert parts[1].inline_data is not None
    assert _size(parts[1].inline_data.data or b"") == (1024, 1024)
    assert [c.usage_metadata is not None for c in chunks] == [False, True]


async def test_a_batch_runs_until_its_delay_then_returns_inlined_responses(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    gemini_fake.batch_delay = 3600
    requests = [
        types.InlinedRequest(contents=f"kite {i}", metadata={"row": str(i)}) for i in range(2)
    ]

    job = await client.aio.batches.create(model=FLASH, src=requests)
    running = await client.aio.batches.get(name=job.name or "")
    gemini_fake.finish_batches()
    done = await client.aio.batches.get(name=job.name or "")

    assert gemini_fake.requests[0].path == f"/v1/models/{FLASH}:batchGenerateContent"
    assert job.state == types.JobState.JOB_STATE_PENDING  # as Google answers a new job
    assert running.state == types.JobState.JOB_STATE_RUNNING
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.dest is not None
    answers = done.dest.inlined_responses or []
    assert [a.metadata for a in answers] == [{"row": "0"}, {"row": "1"}]
    for answer in answers:
        assert answer.response is not None
        assert any(p.inline_data for p in _parts(answer.response))


async def test_a_batch_without_delay_is_done_at_once(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    job = await client.aio.batches.create(
        model=FLASH, src=[types.InlinedRequest(contents="a kite")]
    )

    assert job.state == types.JobState.JOB_STATE_SUCCEEDED


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("BATCH_STATE_FAILED", types.JobState.JOB_STATE_FAILED),
        ("BATCH_STATE_EXPIRED", types.JobState.JOB_STATE_EXPIRED),
        ("BATCH_STATE_CANCELLED", types.JobState.JOB_STATE_CANCELLED),
    ],
)
async def test_a_batch_can_end_failed_expired_or_cancelled_without_output(
    gemini_fake: FakeGemini, client: genai.Client, state: str, expected: types.JobState
) -> None:
    gemini_fake.batch_delay = 3600
    job = await client.aio.batches.create(model=FLASH, src=[types.InlinedRequest(contents="a")])

    gemini_fake.finish_batches(state)
    done = await client.aio.batches.get(name=job.name or "")

    assert done.state == expected
    assert done.dest is None


async def test_faults_apply_to_the_inlined_requests_of_a_batch(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    gemini_fake.fail(Fault.error(400, "Unsupported aspect ratio"), Fault.blocked())
    requests = [
        types.InlinedRequest(contents=f"kite {i}", metadata={"i": str(i)}) for i in range(3)
    ]

    job = await client.aio.batches.create(model=FLASH, src=requests)

    assert job.dest is not None
    first, second, third = job.dest.inlined_responses or []
    assert first.error is not None
    assert first.error.code == 3  # a google.rpc.Status: INVALID_ARGUMENT, not HTTP 400
    assert first.error.message == "Unsupported aspect ratio"
    assert second.response is not None
    assert second.response.prompt_feedback is not None
    assert third.response is not None
    assert third.response.candidates
    assert len(gemini_fake.batch_creates()) == 1
    assert gemini_fake.generate_requests() == []  # a batch is not a generate call


# --- the Files API, for batches ---------------------------------------------------------


async def test_a_batch_from_an_uploaded_file_answers_in_a_result_file(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    gemini_fake.fail(Fault.error(503))
    lines: list[dict[str, Any]] = [
        {"key": f"k{i}", "request": {"contents": [{"parts": [{"text": f"kite {i}"}]}]}}
        for i in range(3)
    ]
    data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    config = types.UploadFileConfig(display_name="requests", mime_type="jsonl")

    uploaded = await client.aio.files.upload(file=io.BytesIO(data), config=config)
    job = await client.aio.batches.create(model=FLASH, src=uploaded.name or "")

    assert uploaded.name is not None
    assert uploaded.size_bytes == len(data)
    assert (await client.aio.files.get(name=uploaded.name)).display_name == "requests"
    assert job.dest is not None
    assert job.dest.inlined_responses is None
    assert job.dest.file_name is not None
    results = await client.aio.files.download(file=job.dest.file_name)
    first, *others = [json.loads(line) for line in results.decode().splitlines()]
    assert first == {"key": "k0", "error": {"code": 14, "message": FAKE_503}}  # UNAVAILABLE
    assert [o["key"] for o in others] == ["k1", "k2"]
    for line, answer in zip(lines[1:], others, strict=True):
        assert answer["response"] == gemini_fake.answer(
            gemini_fake.catalog.get(FLASH), line["request"]
        )
    assert len(gemini_fake.file_downloads()) == 1


async def test_a_large_upload_arrives_in_chunks_at_their_offsets(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    data = os.urandom(9 * 1024 * 1024)  # the SDK sends 8 MB a chunk

    uploaded = await client.aio.files.upload(
        file=io.BytesIO(data), config=types.UploadFileConfig(mime_type="application/octet-stream")
    )

    chunks = [r for r in gemini_fake.requests if "upload_id" in r.query]
    assert [r.headers["x-goog-upload-command"] for r in chunks] == ["upload", "upload, finalize"]
    assert [int(r.headers["x-goog-upload-offset"]) for r in chunks] == [0, 8 * 1024 * 1024]
    [(meta, stored)] = gemini_fake.files.uploaded()
    assert meta["name"] == uploaded.name
    assert stored == data


def test_an_upload_chunk_at_the_wrong_offset_is_refused(gemini_fake: FakeGemini) -> None:
    start = loopback.post(
        gemini_fake.base_url + "/upload/v1beta/files",
        json={"file": {"mimeType": "jsonl", "sizeBytes": 4}},
        headers={"x-goog-api-key": "k", "x-goog-upload-command": "start"},
    )
    url = start.headers["x-goog-upload-url"]

    response = loopback.post(
        url,
        content=b"abcd",
        headers={"x-goog-upload-command": "upload, finalize", "x-goog-upload-offset": "2"},
    )

    assert response.status_code == 400
    assert "offset 2" in response.json()["error"]["message"]


async def test_failed_polls_answer_503_for_the_job_named_then_it_is_reported(
    gemini_fake: FakeGemini, client: genai.Client
) -> None:
    first = await client.aio.batches.create(model=FLASH, src=[types.InlinedRequest(contents="a")])
    second = await client.aio.batches.create(model=FLASH, src=[types.InlinedRequest(contents="b")])
    gemini_fake.fail_polls(2, name=second.name)

    def poll(name: str | None) -> int:
        url = f"{gemini_fake.base_url}/v1beta/{name}"
        return loopback.get(url, headers={"x-goog-api-key": "k"}).status_code

    assert [poll(first.name), poll(second.name), poll(second.name), poll(second.name)] == [
        200, 503, 503, 200,
    ]  # fmt: skip


def test_an_unknown_batch_is_a_404(gemini_fake: FakeGemini) -> None:
    response = loopback.get(
        gemini_fake.base_url + "/v1/batches/nope", headers={"x-goog-api-key": "k"}
    )

    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


# --- by hand ----------------------------------------------------------------------------


def test_it_runs_by_hand_on_a_given_port() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "tests.fakes.gemini", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert f"http://127.0.0.1:{port}" in server.stdout.readline()  # printed once listening
        response = loopback.post(
            f"http://127.0.0.1:{port}/v1/models/{FLASH}:generateContent", json=CAMEL_FLASH
        )
        assert response.status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_generate_call_cut_off_before_its_body_is_not_counted(gemini_fake: FakeGemini) -> None:
    host, port = gemini_fake.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /v1beta/models/gemini-2.5-flash-image:generateContent HTTP/1.1\r\n"
            b"Host: x\r\nContent-Type: application/json\r\n\r\n"
        )
        sock.recv(65536)  # the fake answers the bodiless request with an error
    assert [r.body for r in gemini_fake.requests] == [None]
    assert gemini_fake.generate_requests() == []
