"""Plait's errors as HTTP answers: `{"detail": ..., "errors": [...]}`."""

from __future__ import annotations

import json
import logging
import math
import traceback
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import PydanticSerializationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from plait import jsonlimits
from plait.errors import (
    Category,
    FlowFileError,
    FlowInvalid,
    InputError,
    MediaError,
    PlaitError,
    Problem,
    ServiceUnavailable,
)
from plait.flows.servable import NotServable
from plait.publishing.budgets import BudgetExceeded
from plait.publishing.refusals import BadIdempotencyKey, RateLimited

log = logging.getLogger(__name__)

UNAVAILABLE_RETRY_SECONDS = 5

NOT_UNICODE = "the request holds text that is not Unicode: an unpaired surrogate such as \\ud800"


def problem_json(problem: Problem | PlaitError) -> dict[str, Any]:
    found = {
        "node_id": problem.node_id,
        "port": problem.port,
        "field": getattr(problem, "field", None),
        "message": problem.message,
    }
    row = getattr(problem, "row", None)  # a batch's rows file: 1 = the first data row
    return found if row is None else {**found, "row": row}


# A failed run's HTTP status by whose move it is: 4xx when the flow's input must change,
# 5xx naming the image provider's side (502 an unusable answer or a refusal of Plait's
# set-up, 503 overloaded or rate-limited, 504 no answer in time). Unknown: 500.
_FAILURE_STATUS = {
    Category.INPUT: 422,
    Category.CONFIGURATION: 502,
    Category.UNAVAILABLE: 503,
    Category.TIMEOUT: 504,
    Category.BAD_ANSWER: 502,
}


def run_failure_status(
    category: Category | None, retry_after: float | None = None
) -> tuple[int, dict[str, str]]:
    """The status and headers (Retry-After, when the provider named a wait) of a failed run."""
    status = _FAILURE_STATUS[category] if category is not None else 500
    headers = {}
    if retry_after is not None and status in (503, 504):
        headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return status, headers


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's answer without each error's `input`: that echoes what was sent, such as
        a password or an API key that failed validation, into the response."""
        errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        """FastAPI reads JSON bodies itself and answers any failure but bad syntax with a
        bare 400 "There was an error parsing the body": say why, from the cause."""
        why = _unreadable_json(exc.__cause__) if exc.status_code == 400 else None
        if why is not None:
            return JSONResponse({"detail": why}, status_code=400)
        return await http_exception_handler(request, exc)

    @app.exception_handler(UnicodeEncodeError)
    async def _not_unicode(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        """JSON may escape half a UTF-16 pair (`"\\ud800"`): Python keeps it in a str that
        no database, hash or response can encode. Only input brings such text."""
        return JSONResponse({"detail": NOT_UNICODE}, status_code=400)

    @app.exception_handler(PydanticSerializationError)
    async def _not_serializable(request: Request, exc: PydanticSerializationError) -> JSONResponse:
        if "surrogates not allowed" not in str(exc):  # the answer echoed such text
            raise exc
        return JSONResponse({"detail": NOT_UNICODE}, status_code=400)

    @app.exception_handler(BudgetExceeded)
    async def _over_budget(request: Request, exc: BudgetExceeded) -> JSONResponse:
        """429, not 402: it is a quota over time with a known reset (Retry-After), as
        Google answers a spent quota; clients and proxies already back off on 429."""
        return JSONResponse(
            exc.body(), status_code=429, headers={"Retry-After": str(exc.retry_after)}
        )

    @app.exception_handler(RateLimited)
    async def _rate_limited(request: Request, exc: RateLimited) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=429, headers=exc.verdict.headers())

    @app.exception_handler(BadIdempotencyKey)
    async def _bad_key(request: Request, exc: BadIdempotencyKey) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(FlowInvalid)
    async def _invalid(request: Request, exc: FlowInvalid) -> JSONResponse:
        detail = exc.detail if isinstance(exc, NotServable) else "the flow is invalid"
        return JSONResponse(
            {"detail": detail, "errors": [problem_json(p) for p in exc.problems]},
            status_code=422,
        )

    @app.exception_handler(InputError)
    async def _input(request: Request, exc: InputError) -> JSONResponse:
        problems = getattr(exc, "problems", None) or [exc]
        return JSONResponse(
            {"detail": str(exc), "errors": [problem_json(p) for p in problems]}, status_code=422
        )

    @app.exception_handler(FlowFileError)
    @app.exception_handler(MediaError)
    async def _bad_request(request: Request, exc: PlaitError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)

    @app.exception_handler(ServiceUnavailable)
    async def _unavailable(request: Request, exc: ServiceUnavailable) -> JSONResponse:
        """503 naming the service only: where it is and why it failed is for the log."""
        log.error("%s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            {"detail": f"{exc.service} cannot be reached; try again shortly"},
            status_code=503,
            headers={"Retry-After": str(UNAVAILABLE_RETRY_SECONDS)},
        )

    @app.exception_handler(PlaitError)
    async def _plait(request: Request, exc: PlaitError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)


def _unreadable_json(cause: BaseException | None) -> str | None:
    """Why the JSON parser gave up, when it did: too deep (RecursionError), or a number past
    Python's digit limit (ValueError); None for any other cause."""
    if cause is None or not _raised_by_json_parser(cause):
        return None
    if isinstance(cause, RecursionError):
        return jsonlimits.too_deep().message
    if isinstance(cause, ValueError) and not isinstance(cause, UnicodeError):
        return "the JSON body holds a number with too many digits to read"
    return None


_JSON_PACKAGE = str(Path(json.__file__).parent)


def _raised_by_json_parser(error: BaseException) -> bool:
    frames = traceback.extract_tb(error.__traceback__)
    return any(frame.filename.startswith(_JSON_PACKAGE) for frame in frames)
