"""Gemini's Batch API on the `google-genai` SDK: submit a job's requests, poll it, read
each answer. Half the price of live calls; results arrive within 24 hours.

A job's requests go inline in the create call while their serialized size stays within
Google's inline limit (`INLINE_LIMIT_BYTES`); a larger job's requests are uploaded as a
JSON Lines file through the Files API (`{"key": ..., "request": {...}}` per line) and its
answers are read from the result file Google writes (`dest.file_name`, see
`gemini_results`). Either way each answer is a `types.InlinedResponse` keyed by its
request's key.

Requests are built exactly as live calls build them (`build_contents`, `build_config`) and
serialized by the SDK's own converter, so both paths send what an inline job sends; answers
are read by the live provider's `read` (blocks, missing images, token pricing), at the
catalog's batch price. Submitting and polling use the live provider's retry policy and
error messages. A per-request error is a `google.rpc.Status` (a gRPC code, not an HTTP
status); `row_error` says whether it is temporary or the row's own.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import json
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from google.genai import _common, types
from google.genai import batches as sdk_batches
from google.genai._api_client import BaseApiClient

from plait.errors import ProviderError
from plait.providers import gemini_results
from plait.providers.base import ImageRequest, ImageResult
from plait.providers.catalog import ModelInfo
from plait.providers.gemini import GeminiProvider, build_config, build_contents
from plait.providers.retry import RateSignals

KEY = "plait_key"  # the metadata field naming each inlined request
_ENVELOPE = 256  # a create call's body around its inline requests, and then some
# an inline request's JSON is its request-file line's, with the key in `metadata`
_INLINE_EXTRA = len(json.dumps({"request": {}, "metadata": {KEY: ""}})) - len(
    json.dumps({"key": "", "request": {}})
)
_ONLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("plait_online", default=False)
INLINE_LIMIT_BYTES = 20_000_000  # Google takes at most 20 MB of inline requests per job
SUCCEEDED = "SUCCEEDED"
ENDED_BADLY = {
    "FAILED": "Gemini reported that the job failed",
    "CANCELLED": "the job was cancelled (in Google AI Studio or through the API)",
    "EXPIRED": "it did not finish within the 48 hours Google allows a batch job",
}
RETRY = gemini_results.RETRY
# google.rpc.Code: the codes of a request's error in a batch job, by number
GRPC_CODES = {
    1: "CANCELLED", 2: "UNKNOWN", 3: "INVALID_ARGUMENT", 4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND", 6: "ALREADY_EXISTS", 7: "PERMISSION_DENIED", 8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION", 10: "ABORTED", 11: "OUT_OF_RANGE", 12: "UNIMPLEMENTED",
    13: "INTERNAL", 14: "UNAVAILABLE", 15: "DATA_LOSS", 16: "UNAUTHENTICATED",
}  # fmt: skip
TEMPORARY_CODES = frozenset({1, 2, 4, 8, 10, 13, 14, 15})
_INPUT_ADVICE = {
    "INVALID_ARGUMENT": "Gemini could not take this row's request as given: check the prompt, "
    "the reference images and the image settings, fix the row, and run it again.",
    "OUT_OF_RANGE": "A value in this row's request is out of range: check the image settings "
    "and the reference images, fix the row, and run it again.",
    "FAILED_PRECONDITION": "This is about the key's project, not this row: Gemini's image "
    "models need billing enabled and a supported region. Fix the project in Google AI "
    "Studio, then run the row again (plait batch --retry-failed).",
    "PERMISSION_DENIED": "The API key may not use this model: check the key and its project "
    "in Google AI Studio, then run the row again (plait batch --retry-failed).",
    "UNAUTHENTICATED": "Gemini did not accept the API key: set a valid GEMINI_API_KEY, then "
    "run the row again (plait batch --retry-failed).",
    "NOT_FOUND": "Gemini does not know the model or a file of the request: check the model "
    "(plait models), then run the row again (plait batch --retry-failed).",
}


@dataclass(frozen=True, slots=True)
class JobStatus:
    name: str
    state: str  # PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, EXPIRED
    answers: Mapping[str, types.InlinedResponse]  # by request key, once SUCCEEDED

    @property
    def done(self) -> bool:
        return self.state == SUCCEEDED or self.state in ENDED_BADLY

    def answered_well(self, key: str) -> bool:
        """The job succeeded and answered `key`'s request without an error."""
        answer = self.answers.get(key)
        return self.state == SUCCEEDED and answer is not None and answer.error is None


class GeminiBatchApi:
    """Batch jobs through a `GeminiProvider`'s client (its key, base URL and retries)."""

    def __init__(
        self,
        gemini: GeminiProvider,
        *,
        inline_limit: int = INLINE_LIMIT_BYTES,
        online_signals: RateSignals | None = None,
    ):
        """`online_signals` (the batch's limiter) is told of each 429 a live call gets;
        the job calls' 429s (create, poll) do not slow the rows."""
        self._gemini = gemini
        self._inline_limit = inline_limit
        self.model_list = gemini.model_list  # the key's, as the provider's own calls check
        if online_signals is not None:
            gemini.rate_signals = _OnlineOnly(online_signals)

    async def submit(
        self, model_id: str, requests: list[tuple[str, ImageRequest]], display_name: str
    ) -> JobStatus:
        """Create a job: inline requests, or a request file when they exceed the limit."""
        model = self._gemini.model(model_id)
        inlined = [
            types.InlinedRequest(
                contents=build_contents(request.parts),
                config=build_config(request),
                metadata={KEY: key},
            )
            for key, request in requests
        ]
        api_client = self._gemini.client._api_client
        with tempfile.TemporaryFile() as file:  # the request file, written a line at a time
            size = await asyncio.to_thread(_write_requests, api_client, inlined, file)
            src: list[types.InlinedRequest] | str = inlined
            if size > self._inline_limit:
                src = await self._upload(model, file, display_name)
        config = types.CreateBatchJobConfig(display_name=display_name)
        job = await self._gemini.call(
            model,
            lambda: self._gemini.client.aio.batches.create(model=model.id, src=src, config=config),
        )
        return await self._status(model, job, read_results=False)

    async def status(self, model_id: str, name: str) -> JobStatus:
        model = self._gemini.model(model_id)
        job = await self._gemini.call(model, lambda: self._gemini.client.aio.batches.get(name=name))
        return await self._status(model, job)

    async def live(self, request: ImageRequest) -> ImageResult:
        """`request` as a live call (online, at the standard price), for a request whose
        batch job Google could not report; its 429s slow the batch's rows."""
        token = _ONLINE.set(True)
        try:
            return await self._gemini.generate(request)
        finally:
            _ONLINE.reset(token)

    def read(self, job: JobStatus, key: str, request: ImageRequest) -> ImageResult:
        """The answer to `request` in a finished job, at the batch price; raises
        `ProviderError` when the job ended badly or this request failed."""
        model = self._gemini.model(request.model)
        if job.state in ENDED_BADLY:
            raise ProviderError(
                f"Gemini's batch job {job.name} for {model.id} ended {job.state}: "
                f"{ENDED_BADLY[job.state]}. Run the row again (plait batch --retry-failed), "
                "or in live mode (without --batch-api)."
            )
        answer = job.answers.get(key)
        if answer is None:
            raise ProviderError(
                f"Gemini's batch job {job.name} for {model.id} finished without an answer to "
                f"this row's request. {RETRY}"
            )
        if answer.error is not None:
            raise row_error(job.name, model, answer.error, self._gemini.redact)
        if answer.response is None:
            raise ProviderError(
                f"Gemini's batch job {job.name} answered this row's request to {model.id} "
                f"with neither a response nor an error. {RETRY}"
            )
        result = self._gemini.read(model, request, answer.response, tier="batch")
        result.backend = "gemini-batch"
        return result

    # --- the request file and the result file ----------------------------------------

    async def _upload(self, model: ModelInfo, file: io.BufferedRandom, display_name: str) -> str:
        """Upload the request file; its name, the job's source."""
        size = file.seek(0, io.SEEK_END)

        async def upload() -> types.File:
            file.seek(0)  # each attempt sends the whole file
            return await self._gemini.client.aio.files.upload(file=file, config=config)

        config = types.UploadFileConfig(display_name=display_name, mime_type="jsonl")
        try:
            uploaded = await self._gemini.call(model, upload)
        except (ValueError, KeyError) as exc:  # the SDK's own checks of the upload protocol
            raise ProviderError(
                f"Uploading the request file ({size} bytes) of a batch job for {model.id} "
                f"failed: {exc}. Run the rows again (plait batch --retry-failed).",
                retryable=True,
            ) from None
        if not uploaded.name:
            raise ProviderError(
                f"Gemini accepted the request file of a batch job for {model.id} without "
                "naming it. Run the rows again (plait batch --retry-failed)."
            )
        return uploaded.name

    async def _status(
        self, model: ModelInfo, job: types.BatchJob, *, read_results: bool = True
    ) -> JobStatus:
        """The job's state and answers; without `read_results` (a job just created, which
        must be stored before anything else can fail), a result file is left to the first
        poll, and the job is reported RUNNING until then."""
        if not job.name:
            raise ProviderError("Gemini answered a batch request without the job's name")
        state = str(getattr(job.state, "value", job.state) or "").removeprefix("JOB_STATE_")
        answers: dict[str, types.InlinedResponse] = {}
        for answer in (job.dest.inlined_responses if job.dest else None) or []:
            key = (answer.metadata or {}).get(KEY)
            if key is not None:
                answers[key] = answer
        result_file = job.dest.file_name if job.dest else None
        if state == SUCCEEDED and result_file and not read_results:
            return JobStatus(job.name, "RUNNING", {})
        if state == SUCCEEDED and result_file:
            client, redact = self._gemini.client, self._gemini.redact
            results = await gemini_results.download(client, job.name, result_file, redact)
            return JobStatus(job.name, state, results)
        return JobStatus(job.name, state or "PENDING", answers)


class _OnlineOnly:
    """Passes on the 429s of live calls (`GeminiBatchApi.live`), not of job calls."""

    def __init__(self, signals: RateSignals):
        self._signals = signals

    def throttled(self) -> None:
        if _ONLINE.get():
            self._signals.throttled()


def _write_requests(
    api_client: BaseApiClient, inlined: list[types.InlinedRequest], file: io.BufferedRandom
) -> int:
    """Write the request file (`{"key": ..., "request": {...}}` a line, as Google documents
    it); the bytes the same requests take inline in a create call, as the SDK serializes
    them (`{"request": ..., "metadata": {KEY: ...}}`, images base64), with its envelope."""
    size = _ENVELOPE
    for request in inlined:
        converted = sdk_batches._InlinedRequest_to_mldev(api_client, request)
        plain = _common.encode_unserializable_types(_common.convert_to_dict(converted))
        key = (request.metadata or {})[KEY]
        line = json.dumps({"key": key, "request": plain["request"]}).encode()
        file.write(line + b"\n")
        size += len(line) + _INLINE_EXTRA + 2  # ", " between inline requests
    return size


def row_error(
    job: str, model: ModelInfo, error: types.JobError, redact: Callable[[str], str]
) -> ProviderError:
    """The error for a request the job answered with an error: the gRPC code's name, and
    whether it is temporary (run the row again) or about the row's input or the key."""
    code = error.code if error.code is not None else 2
    name = GRPC_CODES.get(code, f"code {code}")
    said = f"{name}: {_sentence(error.message or 'no message')}"
    if code in TEMPORARY_CODES:
        return ProviderError(
            redact(
                f"Gemini's batch job {job} could not answer this row's request to {model.id} "
                f"({said}). This is temporary on Google's side, not the row's fault: run the "
                "row again with plait batch --retry-failed."
            ),
            retryable=True,
        )
    advice = _INPUT_ADVICE.get(
        name, "Check the row's inputs and the node's settings, then run the row again."
    )
    return ProviderError(
        redact(
            f"Gemini's batch job {job} refused this row's request to {model.id} ({said}). {advice}"
        )
    )


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text[:-1] if text.endswith(".") else text
