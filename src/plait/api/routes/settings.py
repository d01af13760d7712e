"""Server settings: the Gemini key (stored encrypted, write-only) and the active backend."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, SecretStr

from plait.api import schemas
from plait.api.auth import CurrentCaller, State
from plait.api.schemas import answers
from plait.api.state import ServerState
from plait.crypto.tokens import hint

router = APIRouter(prefix="/api/settings", tags=["settings"])


class KeyBody(BaseModel):
    key: SecretStr = Field(min_length=8, max_length=512)


@router.get("", **answers(schemas.Settings))
async def read_settings(caller: CurrentCaller, state: State) -> dict[str, Any]:
    return await settings_json(state)


@router.put("/gemini-key", **answers(schemas.Settings))
async def store_key(body: KeyBody, caller: CurrentCaller, state: State) -> dict[str, Any]:
    await state.stored_key.put(body.key.get_secret_value().strip())
    return await settings_json(state)


@router.delete("/gemini-key", **answers(schemas.Settings))
async def delete_key(caller: CurrentCaller, state: State) -> dict[str, Any]:
    await state.stored_key.delete()
    return await settings_json(state)


async def settings_json(state: ServerState) -> dict[str, Any]:
    provider = state.runtime.provider
    source = provider.key_source
    key = provider.current_key()
    return {
        "backend": provider.backend,
        "gemini_key": {"source": source, "hint": None if key is None else hint(key)},
        "mcp_url": f"{state.settings.public_origin}/mcp",
    }
