"""Personal API tokens for scripts and the CLI: shown once, stored as a hash."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from plait.api.auth import TOKEN_PREFIX, CurrentCaller, State
from plait.crypto.tokens import digest, hint, new_secret
from plait.store import accounts

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=200)


@router.get("")
async def list_tokens(caller: CurrentCaller, state: State) -> list[dict[str, Any]]:
    async with state.runtime.db.new_session() as session:
        tokens = await accounts.list_tokens(session, caller.user.id)
    return [
        {
            "id": t.id,
            "name": t.name,
            "hint": t.hint,
            "created_at": t.created_at,
            "last_used_at": t.last_used_at,
        }
        for t in tokens
    ]


@router.post("", status_code=201)
async def create_token(body: NewToken, caller: CurrentCaller, state: State) -> dict[str, Any]:
    token = new_secret(TOKEN_PREFIX)
    async with state.runtime.db.new_session() as session, session.begin():
        row = await accounts.create_token(
            session, caller.user.id, body.name, digest(token), hint(token)
        )
    return {"id": row.id, "name": row.name, "token": token}


@router.delete("/{token_id}", status_code=204)
async def delete_token(token_id: str, caller: CurrentCaller, state: State) -> None:
    async with state.runtime.db.new_session() as session, session.begin():
        if not await accounts.delete_token(session, caller.user.id, token_id):
            raise HTTPException(404, "no such token")
