"""Personal API tokens for scripts and the CLI: shown once, stored as a hash, scoped, and
optionally expiring. A token can mint only tokens narrower than itself."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from plait.access import scopes
from plait.access.scopes import Scope
from plait.api import schemas
from plait.api.auth import TOKEN_PREFIX, CurrentCaller, State
from plait.api.schemas import answers
from plait.crypto.tokens import digest, hint, new_secret
from plait.store import accounts
from plait.store.tables import ApiToken, utcnow
from plait.textlimits import Name

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


class NewToken(BaseModel):
    name: Name = Field(min_length=1)
    scopes: list[Scope] = Field(
        default=[Scope.RUN, Scope.READ, Scope.WRITE],
        min_length=1,
        max_length=4,
        description="run: start and follow runs; read; write (includes read); "
        "admin: tokens and the Gemini key (includes everything)",
    )
    expires_at: datetime | None = Field(
        default=None, description="when the token stops working (UTC); none: never"
    )


def _summary(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "hint": token.hint,
        "scopes": scopes.stored(scopes.parse(token.scopes)).split(),
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "expires_at": token.expires_at,
    }


@router.get("", **answers(list[schemas.ApiTokenSummary]))
async def list_tokens(caller: CurrentCaller, state: State) -> list[dict[str, Any]]:
    async with state.runtime.db.new_session() as session:
        tokens = await accounts.list_tokens(session, caller.user.id)
    return [_summary(t) for t in tokens]


@router.post("", status_code=201, **answers(schemas.ApiTokenCreated))
async def create_token(body: NewToken, caller: CurrentCaller, state: State) -> dict[str, Any]:
    wanted = frozenset(body.scopes)
    expires_at = _expiry(body.expires_at)
    if not scopes.granted(wanted) <= scopes.granted(caller.scopes):
        raise HTTPException(
            403,
            "a token can create only tokens within its own scopes "
            f"({scopes.describe(caller.scopes)}); asked for {scopes.describe(wanted)}",
        )
    if caller.expires_at is not None and (expires_at is None or expires_at > caller.expires_at):
        raise HTTPException(
            403,
            "a token that expires can create only tokens that expire no later than itself "
            f"({caller.expires_at.isoformat()}); set expires_at",
        )
    token = new_secret(TOKEN_PREFIX)
    async with state.runtime.db.new_session() as session, session.begin():
        row = await accounts.create_token(
            session,
            caller.user.id,
            body.name,
            digest(token),
            hint(token),
            scopes=scopes.stored(wanted),
            expires_at=expires_at,
        )
    return {**_summary(row), "token": token}


def _expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise HTTPException(422, "expires_at: give a time zone, e.g. 2027-01-31T00:00:00Z")
    if expires_at <= utcnow():
        raise HTTPException(422, "expires_at: the time is in the past")
    return expires_at


@router.delete("/{token_id}", status_code=204)
async def delete_token(token_id: str, caller: CurrentCaller, state: State) -> None:
    async with state.runtime.db.new_session() as session, session.begin():
        if not await accounts.delete_token(session, caller.user.id, token_id):
            raise HTTPException(404, "no such token")
