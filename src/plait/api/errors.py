"""Plait's errors as HTTP answers: `{"detail": ..., "errors": [...]}`."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic_core import PydanticSerializationError

from plait.errors import FlowFileError, FlowInvalid, InputError, MediaError, PlaitError, Problem
from plait.publishing.budgets import BudgetExceeded

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


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's answer without each error's `input`: that echoes what was sent, such as
        a password or an API key that failed validation, into the response."""
        errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
        return JSONResponse({"detail": jsonable_encoder(errors)}, status_code=422)

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

    @app.exception_handler(FlowInvalid)
    async def _invalid(request: Request, exc: FlowInvalid) -> JSONResponse:
        return JSONResponse(
            {"detail": "the flow is invalid", "errors": [problem_json(p) for p in exc.problems]},
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

    @app.exception_handler(PlaitError)
    async def _plait(request: Request, exc: PlaitError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=400)
