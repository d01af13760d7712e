"""The result file of a Gemini batch job made from a request file: downloaded once to a
temporary file on disk, indexed by request key, each answer parsed when it is read.

A result file holds every answer of the job (a thousand 1K images are about 2 GB of
base64), so it is streamed to disk rather than held in memory, and only the answer a row
asks for is parsed. Each line is `{"key": ..., "response": {...}}` or `{"key": ...,
"error" | "status": {...}}` (a `google.rpc.Status`); an answer becomes the same
`types.InlinedResponse` an inline job gives, through the SDK's own converter.
"""

from __future__ import annotations

import asyncio
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import aiohttp
import httpx
from google import genai
from google.genai import batches as sdk_batches
from google.genai import errors as genai_errors
from google.genai import types

from plait.errors import ProviderError
from plait.providers.retry import TRANSIENT_STATUSES

DOWNLOAD_SECONDS = 1800.0  # for the whole file; a failed download is tried at the next poll
RETRY = "Run the row again (plait batch --retry-failed)."


class ResultFile(Mapping[str, types.InlinedResponse]):
    """A job's answers by request key, read from its result file on disk when asked."""

    def __init__(self, job: str, file: io.BufferedRandom, index: dict[str, tuple[int, int]]):
        self._job = job
        self._file = file
        self._index = index  # key -> (offset, length) of its line

    def __getitem__(self, key: str) -> types.InlinedResponse:
        offset, length = self._index[key]
        self._file.seek(offset)
        return _answer(self._job, self._file.read(length))

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)


async def download(
    client: genai.Client, job: str, name: str, redact: Callable[[str], str]
) -> ResultFile:
    """Download `job`'s result file `name` and index it; a failure is a `ProviderError`,
    retryable when Google or the network may do better next time."""
    file = tempfile.TemporaryFile()  # noqa: SIM115 (the ResultFile returned keeps it open)
    try:
        await _fetch(client, job, name, file, redact)
        index = await asyncio.to_thread(_index, job, file)
    except BaseException:
        file.close()  # deleted on close
        raise
    return ResultFile(job, file, index)


async def _fetch(
    client: genai.Client, job: str, name: str, file: io.BufferedRandom, redact: Callable[[str], str]
) -> None:
    config = types.DownloadFileConfig(
        http_options=types.HttpOptions(timeout=round(DOWNLOAD_SECONDS * 1000))
    )
    failed = f"Downloading the result file {name} of Gemini's batch job {job} failed"
    try:
        async with asyncio.timeout(DOWNLOAD_SECONDS):
            await client.aio.files.download(file=name, destination=file, config=config)
    except genai_errors.APIError as exc:
        said = f"{exc.code} {exc.status or ''}: {exc.message or 'no message'}".replace(" :", ":")
        raise ProviderError(
            redact(f"{failed} ({said}). {RETRY}"),
            retryable=exc.code in TRANSIENT_STATUSES or exc.code >= 500,
        ) from None
    except (TimeoutError, aiohttp.ClientError, httpx.HTTPError) as exc:
        raise ProviderError(
            f"{failed} ({type(exc).__name__}: {exc}); it is tried again at the next poll.",
            retryable=True,
        ) from None


def _index(job: str, file: io.BufferedRandom) -> dict[str, tuple[int, int]]:
    """Each answer's key and where its line is (every line is parsed once, one at a time)."""
    index: dict[str, tuple[int, int]] = {}
    file.seek(0)
    offset = 0
    for number, line in enumerate(file, 1):
        if line.strip():
            try:
                index[str(json.loads(line)["key"])] = (offset, len(line))
            except (ValueError, KeyError, TypeError) as exc:
                raise _unreadable(job, f"line {number}", exc) from None
        offset += len(line)
    return index


def _answer(job: str, line: bytes) -> types.InlinedResponse:
    try:
        item: dict[str, Any] = json.loads(line)
        wire = {"response": item.get("response"), "error": _status(item)}
        return types.InlinedResponse._from_response(
            response=sdk_batches._InlinedResponse_from_mldev(wire), kwargs={}
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise _unreadable(job, f"the line of request {item.get('key')!r}", exc) from None


def _status(item: dict[str, Any]) -> dict[str, Any] | None:
    """A line's `google.rpc.Status`, as the SDK's `JobError` holds it (code and message)."""
    error = item.get("error") or item.get("status")
    if not isinstance(error, dict):
        return None
    return {"code": error.get("code"), "message": error.get("message")}


def _unreadable(job: str, where: str, exc: Exception) -> ProviderError:
    return ProviderError(
        f"{where} of the result file of Gemini's batch job {job} is not an answer Plait "
        f"can read ({type(exc).__name__}: {exc}). {RETRY}"
    )
