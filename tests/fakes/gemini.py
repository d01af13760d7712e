"""A fake Gemini API: a real HTTP server on loopback speaking the Gemini REST format.

Tests and benchmarks point the real `google-genai` SDK at it (`HttpOptions(base_url=...)`).
It serves `/v1` and `/v1beta`: `models/{model}:generateContent`,
`models/{model}:streamGenerateContent?alt=sse`, `models/{model}:batchGenerateContent` and
`batches/{id}`. Requests may use camelCase or snake_case fields; answers are camelCase.

Images are PNGs of exactly the catalog's size for the model, aspect ratio and image size,
in a colour derived from the request, so the same request always gets the same image.
A request without an aspect ratio gets the first input image's shape (the model's nearest
ratio), as Gemini answers an edit; inline images must be PNG, JPEG, WebP, HEIC or HEIF.
Every request is recorded. Latency, scripted failures (`Fault`: HTTP errors with
Retry-After or RetryInfo, 400 FAILED_PRECONDITION, a free-tier 429 whose QuotaFailure
is 0, hangs, prompt blocks, answers without an image for any finish reason, answers in
words only), a rate limit and a barrier that holds requests until N are in flight can
be injected.

Batch jobs start `PENDING`, are `RUNNING` until `batch_delay` has passed (or
`finish_batches()`), then `SUCCEEDED` with an inlined response per request, or, when
`finish_batches(state)` says so, `FAILED`/`CANCELLED`/`EXPIRED` with an Operation error
and no output. Scripted faults apply to the requests of a new job in order: an HTTP error
becomes that request's `error` (a `google.rpc.Status`, with the gRPC code), a block or
empty answer its `response`. `fail_polls(n)` makes the next n `batches.get` answer 503,
`fail_downloads(n)` the next n file downloads.

The Files API, as the SDK uses it for batch jobs: a resumable upload (`upload/v1beta/files`
with `X-Goog-Upload-Command: start`, then the bytes to the `X-Goog-Upload-URL` it answers,
the last chunk with `upload, finalize`), `files/{id}` and `files/{id}:download?alt=media`.
A job created from an uploaded JSON Lines file (`{"key", "request"}` a line) answers in a
result file (`responsesFile`), one `{"key", "response" | "error"}` a line.

Run it by hand with `python -m tests.fakes.gemini --port 8765`.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import hashlib
import io
import itertools
import json
import math
import re
import struct
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from PIL import Image

from plait.media import heif  # registers the HEIC/HEIF opener, so HEIC inputs have a shape
from plait.providers import catalog as catalog_module
from plait.providers.catalog import Catalog, ModelInfo
from plait.providers.shape import kept_ratio

JSON = dict[str, Any]

_ROUTE = re.compile(
    r"^/(?P<version>v1|v1beta)/(?:models/(?P<model>[^/:]+):(?P<method>\w+)|batches/(?P<batch>[^/:]+))$"
)
_FILES_ROUTE = re.compile(
    r"^/(?P<upload>upload/)?(?P<version>v1|v1beta)/files"
    r"(?:/(?P<file>[^/:]+)(?P<download>:download)?)?$"
)
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES = {
    429: "Resource has been exhausted (e.g. check quota).",
    500: "An internal error has occurred. Please retry or report in "
    "https://developers.generativeai.google/guide/troubleshooting",
    503: "The model is overloaded. Please try again later.",
    504: "The request timed out. Please try again.",
}
_NO_REGION = "User location is not supported for the API use."
_IMAGE_INPUT_TOKENS = 258  # what Gemini counts for a small input image
_BARRIER_TIMEOUT = 10.0


# --- injected failures ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted answer that replaces the next generate request's normal response."""

    status: int = 200
    message: str | None = None
    retry_after: str | None = None  # the Retry-After header
    retry_delay: str | None = None  # a google.rpc.RetryInfo detail, e.g. "7s"
    hang: float = 0.0  # seconds to wait before answering
    block_reason: str | None = None  # promptFeedback.blockReason
    finish_reason: str | None = None  # a candidate that ends with this and has no image
    # message: the error's message, the blockReasonMessage, or an imageless candidate's text
    rpc_status: str | None = None  # the error's `status` when not the HTTP status's usual one
    details: tuple[JSON, ...] = ()  # the error's google.rpc details

    @classmethod
    def error(
        cls,
        status: int,
        message: str | None = None,
        *,
        retry_after: str | None = None,
        retry_delay: str | None = None,
    ) -> Fault:
        return cls(status, message, retry_after=retry_after, retry_delay=retry_delay)

    @classmethod
    def hang_for(cls, seconds: float) -> Fault:
        return cls(hang=seconds)

    @classmethod
    def blocked(cls, reason: str = "SAFETY", message: str | None = None) -> Fault:
        return cls(block_reason=reason, message=message)

    @classmethod
    def empty(cls, finish_reason: str = "IMAGE_SAFETY", message: str | None = None) -> Fault:
        return cls(finish_reason=finish_reason, message=message)

    @classmethod
    def text_only(cls, text: str) -> Fault:
        """An answer in words only: `finishReason: STOP`, a text part and no image."""
        return cls(finish_reason="STOP", message=text)

    @classmethod
    def failed_precondition(cls, message: str = _NO_REGION) -> Fault:
        """Google's 400 FAILED_PRECONDITION: not offered here, or not without billing."""
        return cls(400, message, rpc_status="FAILED_PRECONDITION")

    @classmethod
    def free_tier_quota(cls, model: str, retry_delay: str = "25s") -> Fault:
        """Google's 429 for a free-tier key on a model whose free quota is 0."""
        return cls(
            429,
            _free_tier_message(model),
            retry_after=None,
            details=(*_free_tier_violations(model), _retry_info(retry_delay)),
        )


def google_error(
    status: int, message: str, details: list[JSON] | None = None, rpc_status: str | None = None
) -> JSON:
    """The error body Google's APIs answer with."""
    name = rpc_status or _STATUS_NAMES.get(status, "")
    error: JSON = {"code": status, "message": message, "status": name}
    if details:
        error["details"] = details
    return {"error": error}


# --- recorded requests ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # names lower-cased
    body: Any

    @property
    def model(self) -> str | None:
        match = _ROUTE.match(self.path)
        return match["model"] if match else None

    @property
    def api_version(self) -> str | None:
        match = _ROUTE.match(self.path)
        return match["version"] if match else None

    def parts(self) -> list[JSON]:
        """The parts, normalised to `{"text": ...}` or `{"image": bytes, "mime_type": ...}`."""
        return [_normal_part(p) for c in field_of(self.body, "contents") or [] for p in c["parts"]]

    def image_config(self) -> JSON:
        return field_of(field_of(self.body, "generation_config") or {}, "image_config") or {}


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.title() for word in rest)


def field_of(obj: JSON, snake_name: str) -> Any:
    """A field given in either spelling, as Google's JSON parser accepts both."""
    if snake_name in obj:
        return obj[snake_name]
    return obj.get(camel(snake_name))


def _normal_part(part: JSON) -> JSON:
    blob = field_of(part, "inline_data")
    if blob is None:
        return {"text": part.get("text", "")}
    return {"image": b64decode(blob["data"]), "mime_type": field_of(blob, "mime_type")}


def b64decode(data: str) -> bytes:
    """Bytes from JSON in either base64 alphabet (the SDK sends the URL-safe one)."""
    return base64.b64decode(data.replace("-", "+").replace("_", "/"), validate=True)


# --- deterministic PNGs -----------------------------------------------------------------


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A solid-colour RGB PNG, built in microseconds once its size has been seen."""
    head, head_adler = _first_row(width, rgb)
    body, body_adler, body_len = _other_rows(width, height)
    adler = _adler32_combine(head_adler, body_adler, body_len)
    idat = b"\x78\x01" + head + body + struct.pack(">I", adler)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def _first_row(width: int, rgb: tuple[int, int, int]) -> tuple[bytes, int]:
    # Filter "Sub": the first pixel carries the colour, every later byte is a zero difference.
    row = b"\x01" + bytes(rgb) + bytes(3 * (width - 1))
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(row) + deflate.flush(zlib.Z_FULL_FLUSH), zlib.adler32(row)


@lru_cache(maxsize=64)
def _other_rows(width: int, height: int) -> tuple[bytes, int, int]:
    # Filter "Up": every row equals the one above, so the colour never appears here and
    # the compressed rows can be shared by every image of this size.
    rows = (b"\x02" + bytes(3 * width)) * (height - 1)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    return deflate.compress(rows) + deflate.flush(), zlib.adler32(rows), len(rows)


def _adler32_combine(first: int, second: int, second_len: int) -> int:
    mod = 65521
    a1, b1 = first & 0xFFFF, first >> 16
    a2, b2 = second & 0xFFFF, second >> 16
    a = (a1 + a2 - 1) % mod
    b = (b1 + b2 + second_len * (a1 - 1)) % mod
    return (b << 16) | a


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


# --- answering a generate request -------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, status: int, message: str, details: list[JSON] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


@dataclass(slots=True)
class Reply:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def generate(
    model: ModelInfo,
    body: JSON,
    *,
    text: str | None = None,
    thought_images: int = 0,
    usage: bool = True,
) -> JSON:
    """The GenerateContentResponse for a request (raises BadRequest like Google would)."""
    parts = _request_parts(body)
    _check_image_types(parts)
    config = field_of(body, "generation_config") or {}
    modalities = [m.upper() for m in field_of(config, "response_modalities") or ["TEXT", "IMAGE"]]
    image_config = field_of(config, "image_config") or {}
    width, height, size = _output_size(model, image_config, _kept_shape(model, parts))
    rgb = _colour(parts)
    out: list[JSON] = [
        _image_part(width, height, _shade(rgb, i), thought=True) for i in range(thought_images)
    ]
    text_tokens = 0
    if "TEXT" in modalities and text is not None:
        out.append({"text": text})
        text_tokens = _text_tokens(text)
    image_tokens = _image_tokens(model, size) if "IMAGE" in modalities else 0
    if image_tokens:
        out.append(_image_part(width, height, rgb))
    candidate = {"content": {"role": "model", "parts": out}, "finishReason": "STOP", "index": 0}
    response: JSON = {
        "candidates": [candidate],
        "modelVersion": model.id,
        "responseId": hashlib.sha256(repr(parts).encode()).hexdigest()[:20],
    }
    if usage:
        response["usageMetadata"] = _usage(parts, text_tokens, image_tokens)
    return response


def faulted(fault: Fault, model: ModelInfo) -> Reply:
    """The reply a non-HTTP-error fault makes: a blocked prompt or an imageless candidate."""
    usage = {"promptTokenCount": 12, "totalTokenCount": 12}
    if fault.block_reason:
        feedback: JSON = {"blockReason": fault.block_reason}
        if fault.message:
            feedback["blockReasonMessage"] = fault.message
        return Reply(200, {"promptFeedback": feedback, "usageMetadata": usage})
    candidate: JSON = {"finishReason": fault.finish_reason, "index": 0}
    if fault.message:  # what the model says instead of drawing
        candidate["content"] = {"role": "model", "parts": [{"text": fault.message}]}
    return Reply(200, {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model.id})


def _request_parts(body: JSON) -> list[JSON]:
    contents = field_of(body, "contents")
    if not contents:
        raise BadRequest(400, "* GenerateContentRequest.contents: contents is not specified")
    try:
        return [_normal_part(p) for c in contents for p in c.get("parts", [])]
    except (binascii.Error, KeyError, TypeError) as exc:
        raise BadRequest(400, f"Invalid value at 'contents': {exc}") from None


# The image types Gemini takes inline (its image-understanding page lists these five).
IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp", heif.HEIC, heif.HEIF})


def _check_image_types(parts: list[JSON]) -> None:
    for part in parts:
        if "image" in part and part["mime_type"] not in IMAGE_TYPES:
            raise BadRequest(400, f"Unsupported MIME type: {part['mime_type']}")


def _output_size(
    model: ModelInfo, image_config: JSON, kept: str | None = None
) -> tuple[int, int, str | None]:
    """Pixels and size of the answer; with no ratio sent, `kept` (the input's shape)."""
    ratio = field_of(image_config, "aspect_ratio")
    size = field_of(image_config, "image_size")
    if ratio is not None and ratio not in model.dimensions:
        raise BadRequest(400, f"Unsupported aspect ratio: {ratio} for model {model.id}.")
    if size is not None and size not in model.sizes:
        raise BadRequest(400, f"Unsupported image size: {size} for model {model.id}.")
    width, height = model.pixel_size(ratio or kept, size)
    return width, height, size


def _kept_shape(model: ModelInfo, parts: list[JSON]) -> str | None:
    """The model's ratio nearest the first input image's shape, as Gemini answers a request
    without an aspect ratio; None (a square) without an image or one Pillow cannot read."""
    first = next((p["image"] for p in parts if "image" in p), None)
    if first is None:
        return None
    try:
        with Image.open(io.BytesIO(first)) as img:
            return kept_ratio(model, img.width, img.height)
    except (OSError, ValueError):
        return None


def _colour(parts: list[JSON]) -> tuple[int, int, int]:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part["image"] if "image" in part else part["text"].encode())
        digest.update(b"\x00")
    r, g, b = digest.digest()[:3]
    return r, g, b


def _shade(rgb: tuple[int, int, int], step: int) -> tuple[int, int, int]:
    r, g, b = rgb
    return (r + 40 * (step + 1)) % 256, g, b


def _image_part(width: int, height: int, rgb: tuple[int, int, int], thought: bool = False) -> JSON:
    data = base64.b64encode(png(width, height, rgb)).decode()
    part: JSON = {"inlineData": {"mimeType": "image/png", "data": data}}
    if thought:
        part["thought"] = True
    return part


def _text_tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4))


def _image_tokens(model: ModelInfo, size: str | None) -> int:
    """Output tokens for one image, chosen so that tokens x token price = the image price."""
    per_token = model.price_per_million_tokens.output_image / 1e6
    return round(model.image_price(size) / per_token) if per_token else 1290


def _usage(parts: list[JSON], text_tokens: int, image_tokens: int) -> JSON:
    prompt_text = sum(_text_tokens(p["text"]) for p in parts if "text" in p)
    prompt_images = _IMAGE_INPUT_TOKENS * sum(1 for p in parts if "image" in p)
    prompt_details = [{"modality": "TEXT", "tokenCount": prompt_text}]
    if prompt_images:
        prompt_details.append({"modality": "IMAGE", "tokenCount": prompt_images})
    candidate_details = [
        {"modality": m, "tokenCount": n}
        for m, n in (("TEXT", text_tokens), ("IMAGE", image_tokens))
        if n
    ]
    prompt = prompt_text + prompt_images
    return {
        "promptTokenCount": prompt,
        "candidatesTokenCount": text_tokens + image_tokens,
        "totalTokenCount": prompt + text_tokens + image_tokens,
        "promptTokensDetails": prompt_details,
        "candidatesTokensDetails": candidate_details,
    }


# --- batches ----------------------------------------------------------------------------


BATCH_SUCCEEDED = "BATCH_STATE_SUCCEEDED"
_BATCH_FAILURES = {
    "BATCH_STATE_FAILED": (500, "The batch job failed."),
    "BATCH_STATE_CANCELLED": (499, "The batch job was cancelled."),
    "BATCH_STATE_EXPIRED": (504, "The batch job expired: it did not finish within 48 hours."),
}


@dataclass(slots=True)
class Batch:
    """A batch job: `PENDING` when created, `RUNNING` until `ready_at`, then `final_state`."""

    name: str
    model: str
    display_name: str
    created: float
    ready_at: float
    responses: list[JSON]
    final_state: str = BATCH_SUCCEEDED
    responses_file: str | None = None  # a job from a request file answers in a file

    def operation(self, now: float, *, created: bool = False) -> JSON:
        done = now >= self.ready_at
        state = (
            self.final_state
            if done
            else "BATCH_STATE_PENDING"
            if created
            else "BATCH_STATE_RUNNING"
        )
        metadata: JSON = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
            "name": self.name,
            "displayName": self.display_name,
            "model": f"models/{self.model}",
            "state": state,
            "createTime": _rfc3339(self.created),
            "updateTime": _rfc3339(now),
        }
        op: JSON = {"name": self.name, "metadata": metadata, "done": done}
        if not done:
            return op
        metadata["endTime"] = _rfc3339(self.ready_at)
        if state in _BATCH_FAILURES:  # Google's Operation error: no output at all
            code, message = _BATCH_FAILURES[state]
            op["error"] = {"code": code, "message": message}
            return op
        output: JSON = {"inlinedResponses": {"inlinedResponses": self.responses}}
        if self.responses_file is not None:
            output = {"responsesFile": self.responses_file}
        metadata["output"] = output
        op["response"] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main."
            "GenerateContentBatchOutput",
            **output,
        }
        return op


def _rfc3339(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


# --- the server -------------------------------------------------------------------------


class FakeGemini:
    """The fake, started in a background thread; use as a context manager.

    `latency` (seconds per generate request), `rate_limit` (requests per minute), `text`
    (returned when TEXT is asked for; None for none), `batch_delay`, `thought_images`
    (interim images flagged `thought`, as Gemini 3 Pro sends) and `usage` (whether to
    send usageMetadata) may be changed while it runs. With `api_key` set, requests must
    carry that key, as Google checks.
    """

    listing: ModelListing | None = None  # what models.list answers (None: the catalog's models)

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        rate_limit: int | None = None,
        text: str | None = "Here is the image you asked for.",
        batch_delay: float = 0.0,
        thought_images: int = 0,
        usage: bool = True,
        api_key: str | None = None,
        catalog: Catalog | None = None,
    ):
        self._host = host
        self.latency = latency
        self.rate_limit = rate_limit
        self.text = text
        self.batch_delay = batch_delay
        self.thought_images = thought_images
        self.usage = usage
        self.api_key = api_key
        self.catalog = catalog or catalog_module.current()
        self.max_in_flight = 0
        self.on_hang: Callable[[], None] | None = None  # called (in its thread) as a hang begins
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._hangs_over = threading.Event()  # set by `end_hangs`, then replaced
        self._recorded: list[Recorded] = []
        self._faults: deque[Fault] = deque()
        self._window: deque[float] = deque()
        self._batches: dict[str, Batch] = {}
        self._batch_ids = itertools.count(1)
        self._files = FakeFiles()
        self._poll_faults: dict[str | None, int] = {}  # by job name; None: any job
        self._download_faults = 0
        self._in_flight = 0
        self._barrier: threading.Barrier | None = None
        self._server = _Server((host, port), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    # lifecycle

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._server.server_port}"

    def start(self) -> FakeGemini:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self._thread.is_alive():
            self._server.server_close()
            return
        self._stopping.set()  # wakes delayed handlers
        self._hangs_over.set()  # and hanging ones
        if self._barrier is not None:
            self._barrier.abort()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> FakeGemini:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # behaviour

    def fail(self, *faults: Fault) -> None:
        """Answer the next generate requests with these faults, in order."""
        with self._lock:
            self._faults.extend(faults)

    def hold(self, parties: int | None) -> None:
        """Make generate requests wait until `parties` of them are in flight together."""
        self._barrier = threading.Barrier(parties) if parties else None

    def fail_polls(self, count: int, name: str | None = None) -> None:
        """Answer the next `count` `batches.get` requests (of job `name`, or of any job)
        with 503 UNAVAILABLE; 0 stops."""
        with self._lock:
            self._poll_faults[name] = count

    def fail_downloads(self, count: int) -> None:
        """Answer the next `count` file downloads with 503 UNAVAILABLE."""
        with self._lock:
            self._download_faults = count

    def next_download_fails(self) -> bool:
        with self._lock:
            failing = self._download_faults > 0
            self._download_faults -= failing
        return failing

    def next_poll_fails(self, name: str) -> bool:
        with self._lock:
            for which in (name, None):
                if self._poll_faults.get(which, 0) > 0:
                    self._poll_faults[which] -= 1
                    return True
        return False

    @property
    def files(self) -> FakeFiles:
        """The files uploaded, and the result files of batch jobs."""
        return self._files

    def finish_batches(self, state: str = BATCH_SUCCEEDED) -> None:
        """End every pending batch now, in `state` (`BATCH_STATE_FAILED`, `..._EXPIRED`, ...)."""
        now = time.time()
        with self._lock:
            for batch in self._batches.values():
                if batch.ready_at > now:
                    batch.ready_at = now
                    batch.final_state = state

    # what was received

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._recorded)

    def generate_requests(self) -> list[Recorded]:
        """Generate calls that arrived whole (a client cut off before its body sent none)."""
        return [
            r
            for r in self.requests
            if r.path.endswith((":generateContent", ":streamGenerateContent"))
            and isinstance(r.body, dict)
        ]

    def batch_creates(self) -> list[Recorded]:
        """`batchGenerateContent` calls: each one is a batch job submitted (and paid for)."""
        return [r for r in self.requests if r.path.endswith(":batchGenerateContent")]

    def batch_polls(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET" and "/batches/" in r.path]

    def file_downloads(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith(":download")]

    # called by the handler

    def record(self, request: Recorded) -> None:
        with self._lock:
            self._recorded.append(request)

    def next_fault(self) -> Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def over_rate_limit(self) -> int | None:
        """Seconds until a slot frees when the per-minute limit is reached, else None."""
        if self.rate_limit is None:
            return None
        now = time.monotonic()
        with self._lock:
            while self._window and now - self._window[0] >= 60:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                return math.ceil(60 - (now - self._window[0]))
            self._window.append(now)
        return None

    def wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def hang(self, seconds: float) -> None:
        if seconds > 0:
            over = self._hangs_over
            if self.on_hang is not None:
                self.on_hang()
            over.wait(seconds)  # `stop` sets it too

    def end_hangs(self) -> None:
        """End the hangs in progress now: they answer as usual (later ones hang again)."""
        over, self._hangs_over = self._hangs_over, threading.Event()
        over.set()

    def enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        barrier = self._barrier
        if barrier is not None:
            barrier.wait(_BARRIER_TIMEOUT)

    def leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def answer(self, model: ModelInfo, body: JSON) -> JSON:
        return generate(
            model, body, text=self.text, thought_images=self.thought_images, usage=self.usage
        )

    def add_batch(
        self, model: str, display_name: str, responses: list[JSON], from_file: bool = False
    ) -> Batch:
        now = time.time()
        with self._lock:
            name = f"batches/fake{next(self._batch_ids)}"
            batch = Batch(name, model, display_name, now, now + self.batch_delay, responses)
            if from_file:
                lines = b"".join(json.dumps(r).encode() + b"\n" for r in responses)
                batch.responses_file = self._files.add(
                    f"{name.removeprefix('batches/')}-results", lines, "application/jsonl"
                )["name"]
            self._batches[name] = batch
        return batch

    def batch(self, name: str) -> Batch | None:
        with self._lock:
            return self._batches.get(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the listen backlog: a burst of connections must not be dropped
    fake: FakeGemini

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up (timed out) closes its socket; that is expected here


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle's algorithm the body would
    # wait for the client's delayed ACK, about 40 ms per response on Linux.
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        fake = self.server.fake
        url = urlsplit(self.path)
        body = self._read_body()
        query = dict(parse_qsl(url.query))
        headers = {k.lower(): v for k, v in self.headers.items()}
        fake.record(Recorded(self.command, url.path, query, headers, body))
        try:
            reply = self._route(fake, url.path, query, headers, body)
        except BadRequest as exc:
            reply = Reply(exc.status, google_error(exc.status, exc.message, exc.details))
        if reply is not None:
            self._send(reply)

    def _route(
        self, fake: FakeGemini, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply | None:
        if _LIST_ROUTE.match(path):
            return list_models(fake, self.command, query, headers)
        files = _FILES_ROUTE.match(path)
        if files is not None:
            return _files_route(self.command, fake, files, query, headers, body)
        match = _ROUTE.match(path)
        if match is None:
            raise BadRequest(404, f"Method not found: {path}")
        _check_key(fake, headers.get("x-goog-api-key") or query.get("key"))
        if match["batch"]:
            return self._get_batch(fake, f"batches/{match['batch']}")
        model = _model(fake, match["model"], match["version"], match["method"])
        if not isinstance(body, dict):
            raise BadRequest(400, "Invalid JSON payload received.")
        if match["method"] == "batchGenerateContent":
            return self._create_batch(fake, model, body)
        if match["method"] not in ("generateContent", "streamGenerateContent"):
            raise BadRequest(404, f"Method not found: {match['method']}")
        return self._generate(fake, model, body, stream=match["method"].startswith("stream"))

    def _generate(
        self, fake: FakeGemini, model: ModelInfo, body: JSON, stream: bool
    ) -> Reply | None:
        fake.enter()
        try:
            fake.wait(fake.latency)
            reply = _fault_or_limit(fake, model)
            if reply is None:
                reply = Reply(200, fake.answer(model, body))
        except threading.BrokenBarrierError:
            reply = Reply(500, google_error(500, "the fake's barrier broke"))
        finally:
            fake.leave()
        if stream and reply.status == 200:
            self._send_sse(reply.body, sse=self._query_alt() == "sse")
            return None
        return reply

    def _create_batch(self, fake: FakeGemini, model: ModelInfo, body: JSON) -> Reply:
        batch = field_of(body, "batch") or {}
        source = field_of(batch, "input_config") or {}
        file_name = field_of(source, "file_name")
        if file_name is not None:
            responses = [
                _file_response(model, line, fake) for line in _request_lines(fake, file_name)
            ]
        else:
            items = (field_of(source, "requests") or {}).get("requests", [])
            responses = [_batch_response(model, item, fake) for item in items]
        created = fake.add_batch(
            model.id, field_of(batch, "display_name") or "", responses, file_name is not None
        )
        return Reply(200, created.operation(time.time(), created=True))

    def _get_batch(self, fake: FakeGemini, name: str) -> Reply:
        if self.command != "GET":
            raise BadRequest(404, f"Method not found for {name}")
        batch = fake.batch(name)
        if batch is None:
            raise BadRequest(404, f"Requested entity was not found: {name}")
        if fake.next_poll_fails(name):
            return Reply(503, google_error(503, _DEFAULT_MESSAGES[503]))
        return Reply(200, batch.operation(time.time()))

    def _query_alt(self) -> str | None:
        return dict(parse_qsl(urlsplit(self.path).query)).get("alt")

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not raw:
            return None
        if "upload_id=" in self.path:  # a file's bytes, sent to a resumable upload
            return raw
        try:
            return json.loads(raw)
        except ValueError:
            return raw.decode(errors="replace")

    def _send(self, reply: Reply) -> None:
        raw = isinstance(reply.body, bytes)  # a file's content
        data = reply.body if raw else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            kind = "application/octet-stream" if raw else "application/json; charset=UTF-8"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send_sse(self, response: JSON, sse: bool) -> None:
        chunks = _stream_chunks(response)
        self.close_connection = True  # the stream ends when the connection closes
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream" if sse else "application/json")
            self.send_header("Connection", "close")
            self.end_headers()
            if sse:
                for chunk in chunks:
                    self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n")
            else:
                self.wfile.write(json.dumps(chunks).encode())
        except (BrokenPipeError, ConnectionResetError):
            pass


# --- models.list ------------------------------------------------------------------------

_LIST_ROUTE = re.compile(r"^/(v1|v1beta)/models/?$")
_LIST_MAX_PAGE = 1000  # Google caps pageSize here; 50 when none is given
_LIST_DEFAULT_PAGE = 50


@dataclass(frozen=True, slots=True)
class ModelListing:
    """What `GET /v1beta/models` (and `/v1/models`) answers: these model ids, in pages.

    `models` defaults to every catalog model Google still serves plus two text models, as
    a real key's list mixes them; `max_page` lowers the page size cap to force pagination.
    """

    models: tuple[str, ...] | None = None
    max_page: int = _LIST_MAX_PAGE
    methods: tuple[str, ...] = ("generateContent", "countTokens", "batchGenerateContent")

    def ids(self, catalog: Catalog) -> list[str]:
        if self.models is not None:
            return list(self.models)
        served = [m.id for m in catalog.models if m.lifecycle != "shut_down"]
        return [*served, "gemini-3.1-flash-lite", "text-embedding-005"]


def list_models(
    fake: FakeGemini, method: str, query: dict[str, str], headers: dict[str, str]
) -> Reply:
    """One page of the key's models, with `nextPageToken` while more remain (as Google pages)."""
    if method != "GET":
        raise BadRequest(404, "Method not found: models")
    _check_key(fake, headers.get("x-goog-api-key") or query.get("key"))
    listing = fake.listing or ModelListing()
    ids = listing.ids(fake.catalog)
    try:
        size = int(query.get("pageSize") or _LIST_DEFAULT_PAGE)
        start = int(query.get("pageToken") or 0)
    except ValueError:
        raise BadRequest(400, "Invalid pageSize or pageToken.") from None
    size = max(1, min(size, listing.max_page))
    page = ids[start : start + size]
    body: JSON = {"models": [_listed_model(i, listing) for i in page]}
    if start + size < len(ids):
        body["nextPageToken"] = str(start + size)
    return Reply(200, body)


def _listed_model(model_id: str, listing: ModelListing) -> JSON:
    methods = list(listing.methods) if "embedding" not in model_id else ["embedContent"]
    return {
        "name": f"models/{model_id}",
        "version": "001",
        "displayName": model_id.replace("-", " ").title(),
        "description": f"The fake's {model_id}",
        "inputTokenLimit": 65536,
        "outputTokenLimit": 32768,
        "supportedGenerationMethods": methods,
    }


def _check_key(fake: FakeGemini, key: str | None) -> None:
    if fake.api_key is None:
        return
    if not key:
        raise BadRequest(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API.",
        )
    if key != fake.api_key:
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        }
        raise BadRequest(400, "API key not valid. Please pass a valid API key.", [info])


def _model(fake: FakeGemini, model_id: str, version: str, method: str) -> ModelInfo:
    for model in fake.catalog.models:
        if model.id == model_id:
            return model
    raise BadRequest(
        404,
        f"models/{model_id} is not found for API version {version}, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their supported "
        "methods.",
    )


def _fault_or_limit(fake: FakeGemini, model: ModelInfo) -> Reply | None:
    wait = fake.over_rate_limit()
    if wait is not None:
        return Reply(429, google_error(429, _DEFAULT_MESSAGES[429]), {"Retry-After": str(wait)})
    fault = fake.next_fault()
    if fault is None:
        return None
    fake.hang(fault.hang)
    if fault.block_reason or fault.finish_reason:
        return faulted(fault, model)
    if fault.status == 200:
        return None  # a pure hang, answered normally if the client is still there
    message = fault.message or _DEFAULT_MESSAGES.get(fault.status, HTTPStatus(fault.status).phrase)
    details = [*fault.details, *([_retry_info(fault.retry_delay)] if fault.retry_delay else [])]
    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
    body = google_error(fault.status, message, details or None, fault.rpc_status)
    return Reply(fault.status, body, headers)


def _retry_info(delay: str) -> JSON:
    return {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}


def _free_tier_message(model: str) -> str:
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    return (
        "You exceeded your current quota, please check your plan and billing details.\n"
        f"* Quota exceeded for metric: {metric}, limit: 0, model: {model}\n"
        "Please retry in 25.2s."
    )


def _free_tier_violations(model: str) -> list[JSON]:
    """The google.rpc.QuotaFailure of a free-tier key on a model it gets no quota for."""
    violations = [
        {
            "quotaMetric": f"generativelanguage.googleapis.com/generate_content_free_tier_{metric}",
            "quotaId": f"{quota}-FreeTier",
            "quotaDimensions": {"location": "global", "model": model},
            "quotaValue": "0",
        }
        for metric, quota in (
            ("requests", "GenerateRequestsPerDayPerProjectPerModel"),
            ("input_token_count", "GenerateContentInputTokensPerModelPerMinute"),
        )
    ]
    return [{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": violations}]


def _batch_response(model: ModelInfo, item: JSON, fake: FakeGemini) -> JSON:
    """One inlined response; a scripted `Fault` applies to it as to a generate request:
    an HTTP error becomes the request's `error`, a block or empty answer its `response`."""
    answer: JSON = {}
    if "metadata" in item:
        answer["metadata"] = item["metadata"]
    fault = fake.next_fault()
    try:
        if fault is not None and fault.status != 200:
            message = fault.message or _DEFAULT_MESSAGES.get(
                fault.status, HTTPStatus(fault.status).phrase
            )
            raise BadRequest(fault.status, message)
        if fault is not None and (fault.block_reason or fault.finish_reason):
            answer["response"] = faulted(fault, model).body
        else:
            answer["response"] = fake.answer(model, item.get("request", {}))
    except BadRequest as exc:  # a google.rpc.Status: the gRPC code, not the HTTP status
        answer["error"] = {"code": GRPC_CODES.get(exc.status, 2), "message": exc.message}
    return answer


# --- the Files API (for batch jobs) -----------------------------------------------------


GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 409: 10, 429: 8, 499: 1, 500: 13, 503: 14, 504: 4}


class FakeFiles:
    """Files by name (`files/...`): uploaded ones, and the result files of batch jobs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, tuple[JSON, bytes]] = {}
        self._uploads: dict[str, tuple[JSON, bytearray]] = {}  # by upload id
        self._ids = itertools.count(1)

    def add(
        self, name: str, data: bytes, mime_type: str, display_name: str = "", uploaded: bool = False
    ) -> JSON:
        now = _rfc3339(time.time())
        meta: JSON = {
            "name": f"files/{name}",
            "displayName": display_name,
            "mimeType": mime_type,
            "sizeBytes": str(len(data)),
            "createTime": now,
            "updateTime": now,
            "sha256Hash": base64.b64encode(hashlib.sha256(data).digest()).decode(),
            "state": "ACTIVE",
            "source": "UPLOADED" if uploaded else "GENERATED",
        }
        with self._lock:
            self._files[meta["name"]] = (meta, data)
        return meta

    def get(self, name: str) -> tuple[JSON, bytes]:
        with self._lock:
            found = self._files.get(name)
        if found is None:
            raise BadRequest(404, f"File {name} not found.")
        return found

    def uploaded(self) -> list[tuple[JSON, bytes]]:
        """Every file uploaded (not made by a job), in order."""
        with self._lock:
            return [f for f in self._files.values() if f[0]["source"] == "UPLOADED"]

    def start(self, meta: JSON) -> str:
        """A resumable upload of `meta` begins; its upload id."""
        upload_id = f"upload{next(self._ids)}"
        with self._lock:
            self._uploads[upload_id] = (meta, bytearray())
        return upload_id

    def chunk(self, upload_id: str, offset: int, data: bytes, finalize: bool) -> JSON | None:
        """Add a chunk at `offset`; the file's metadata once finalized."""
        with self._lock:
            if upload_id not in self._uploads:
                raise BadRequest(404, f"No upload session {upload_id}.")
            meta, received = self._uploads[upload_id]
            if offset != len(received):
                raise BadRequest(400, f"Upload offset {offset} != {len(received)} received.")
            received.extend(data)
            if not finalize:
                return None
            del self._uploads[upload_id]
        declared = field_of(meta, "size_bytes")
        if declared is not None and int(declared) != len(received):
            raise BadRequest(400, f"Uploaded {len(received)} bytes, {declared} were declared.")
        mime_type = field_of(meta, "mime_type") or "application/octet-stream"
        display_name = field_of(meta, "display_name") or upload_id
        name = f"up{upload_id.removeprefix('upload')}"
        return self.add(name, bytes(received), mime_type, display_name, uploaded=True)


def _files_route(
    method: str,
    fake: FakeGemini,
    match: re.Match[str],
    query: dict[str, str],
    headers: dict[str, str],
    body: Any,
) -> Reply:
    if match["upload"] and "upload_id" in query:  # the upload id is the credential
        return _upload_chunk(fake, query["upload_id"], headers, body)
    _check_key(fake, headers.get("x-goog-api-key") or query.get("key"))
    if match["upload"] and method == "POST" and match["file"] is None:
        if headers.get("x-goog-upload-command") != "start" or not isinstance(body, dict):
            raise BadRequest(400, "Expected a resumable upload start with the file's metadata.")
        upload_id = fake.files.start(field_of(body, "file") or {})
        url = f"{fake.base_url}/upload/{match['version']}/files?upload_id={upload_id}"
        return Reply(200, {}, {"X-Goog-Upload-URL": url, "X-Goog-Upload-Status": "active"})
    if method == "GET" and match["file"] and not match["upload"]:
        meta, data = fake.files.get(f"files/{match['file']}")
        if match["download"]:
            if query.get("alt") != "media":
                raise BadRequest(400, "Download needs alt=media.")
            if fake.next_download_fails():
                return Reply(503, google_error(503, _DEFAULT_MESSAGES[503]))
            return Reply(200, data)
        return Reply(200, meta)
    raise BadRequest(404, f"Method not found: {method} {match.group(0)}")


def _upload_chunk(fake: FakeGemini, upload_id: str, headers: dict[str, str], body: Any) -> Reply:
    command = {c.strip() for c in headers.get("x-goog-upload-command", "").split(",")}
    offset = int(headers.get("x-goog-upload-offset") or 0)
    data = body if isinstance(body, bytes) else b""
    meta = fake.files.chunk(upload_id, offset, data, "finalize" in command)
    if meta is None:
        return Reply(200, {}, {"X-Goog-Upload-Status": "active"})
    return Reply(200, {"file": meta}, {"X-Goog-Upload-Status": "final"})


def _request_lines(fake: FakeGemini, file_name: str) -> list[JSON]:
    """The `{"key", "request"}` lines of an uploaded request file."""
    _, data = fake.files.get(file_name)
    try:
        lines = [json.loads(line) for line in data.decode().splitlines() if line.strip()]
    except ValueError as exc:
        raise BadRequest(400, f"{file_name} is not JSON Lines: {exc}") from None
    if not all(isinstance(line, dict) and "request" in line for line in lines):
        raise BadRequest(400, f"Every line of {file_name} needs a request.")
    return lines


def _file_response(model: ModelInfo, line: JSON, fake: FakeGemini) -> JSON:
    """A result file's line: the request's key and its response or error."""
    answer = _batch_response(model, {"request": line["request"]}, fake)
    return {"key": line.get("key"), **answer}


def _stream_chunks(response: JSON) -> list[JSON]:
    """The response split as Gemini streams it: one chunk per part, usage on the last."""
    candidate = (response.get("candidates") or [{}])[0]
    parts = candidate.get("content", {}).get("parts", [])
    if not parts:
        return [response]
    chunks = []
    for i, part in enumerate(parts):
        chunk_candidate: JSON = {"content": {"role": "model", "parts": [part]}, "index": 0}
        chunk: JSON = {"candidates": [chunk_candidate], "modelVersion": response["modelVersion"]}
        if i == len(parts) - 1:
            chunk_candidate["finishReason"] = candidate["finishReason"]
            if "usageMetadata" in response:
                chunk["usageMetadata"] = response["usageMetadata"]
        chunks.append(chunk)
    return chunks


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Gemini API on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per generate request")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute")
    parser.add_argument("--batch-delay", type=float, default=5.0, help="seconds until a batch ends")
    args = parser.parse_args(argv)
    fake = FakeGemini(
        host=args.host,
        port=args.port,
        latency=args.latency,
        rate_limit=args.rate_limit,
        batch_delay=args.batch_delay,
    )
    with fake:
        print(
            f"fake Gemini on {fake.base_url}  (PLAIT_GEMINI_BASE_URL={fake.base_url})", flush=True
        )
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
