"""The baselines for benchmarks/trigger.py, without Plait: bare FastAPI routes.

- `/bare` returns the same JSON as the published echo flow.
- `/sdk` makes the image flow's Gemini call through the same SDK, transport and
  settings (at `PLAIT_GEMINI_BASE_URL`) and answers with the image's hash: what any
  Python image endpoint on this SDK pays per call, whatever it does around it.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

import aiohttp
from fastapi import FastAPI, Request
from google import genai
from google.genai import types

app = FastAPI()
MODEL = "gemini-nano-banana-2.1"  # the catalog's default, the image flow's model
CONFIG = types.GenerateContentConfig(  # the Image node's defaults (with the model's 1K size)
    response_modalities=["TEXT", "IMAGE"],
    image_config=types.ImageConfig(aspect_ratio="1:1", image_size="1K"),
)
_clients: list[genai.Client] = []


@app.post("/bare")
async def bare(request: Request) -> dict[str, Any]:
    body = await request.json()
    return {"prompt": body["prompt"], "label": "v1"}


@app.post("/sdk")
async def sdk(request: Request) -> dict[str, Any]:
    body = await request.json()
    contents = [types.Content(role="user", parts=[types.Part(text=body["prompt"])])]
    response = await _client().aio.models.generate_content(
        model=MODEL, contents=contents, config=CONFIG
    )
    images = [p.inline_data.data for p in response.parts or () if p.inline_data]
    return {"image": hashlib.sha256(images[0] if images and images[0] else b"").hexdigest()}


def _client() -> genai.Client:
    """Made in the server's event loop (an aiohttp session is bound to it), as Plait's is."""
    if not _clients:
        session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), trust_env=False)
        options = types.HttpOptions(
            base_url=os.environ["PLAIT_GEMINI_BASE_URL"],
            retry_options=types.HttpRetryOptions(attempts=1),
            aiohttp_client=session,
        )
        key = os.environ.get("GEMINI_API_KEY", "bench-key")
        _clients.append(genai.Client(vertexai=False, api_key=key, http_options=options))
    return _clients[0]
