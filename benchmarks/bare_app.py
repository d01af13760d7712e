"""The baseline for benchmarks/trigger.py: a bare FastAPI route returning the same JSON."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request

app = FastAPI()


@app.post("/bare")
async def bare(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"prompt": body["prompt"], "label": "v1"}
