"""Signing in: first-run set-up, password login, logout, and the caller's state."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from plait.access.first_admin import accounts_exist
from plait.access.signin import retry_after
from plait.api import schemas
from plait.api.auth import SESSION_COOKIE, CurrentCaller, State, identify
from plait.api.schemas import answers
from plait.crypto.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from plait.crypto.tokens import digest, new_secret, same
from plait.store import accounts
from plait.store.tables import User
from plait.textlimits import Email

# Public routes with small bodies: refuse big ones before reading them (413).
router = APIRouter(prefix="/api/auth", tags=["auth"], max_body_size=64 * 1024)

EMAIL = r"^[^@\s]+@[^@\s]+$"


class SetupBody(BaseModel):
    token: str
    email: Email = Field(pattern=EMAIL)
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH)


class LoginBody(BaseModel):
    email: Email
    password: str = Field(max_length=MAX_LENGTH)


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "is_admin": user.is_admin}


@router.get("/state", **answers(schemas.AuthState))
async def auth_state(request: Request, state: State) -> dict[str, Any]:
    caller = await identify(request, state)
    if state.setup_token is not None and await accounts_exist(state.runtime.db):
        state.setup_token = None  # set up through another process on this database
    return {
        "setup_required": state.setup_token is not None,
        "user": None if caller is None else user_json(caller.user),
        "csrf_token": None if caller is None else caller.csrf_token,
    }


@router.post("/setup", **answers(schemas.SignedIn))
async def setup(body: SetupBody, response: Response, state: State) -> dict[str, Any]:
    """Create the first admin with the one-time token `plait serve` printed."""
    expected = state.setup_token
    if expected is None or not same(body.token, expected):
        raise HTTPException(403, "set-up is done, or this set-up link is not the current one")
    async with state.runtime.db.new_session() as session:
        user = await accounts.create_first_admin(session, body.email, hash_password(body.password))
    state.setup_token = None
    if user is None:  # made meanwhile, through this process or another
        raise HTTPException(409, "an admin exists already; sign in")
    return await _sign_in(user, response, state)


@router.post("/login", **answers(schemas.SignedIn))
async def login(
    body: LoginBody, request: Request, response: Response, state: State
) -> dict[str, Any]:
    """Throttled per address and per account from that address (`plait.access.signin`)."""
    address = request.client.host if request.client else "unknown"
    wait = await state.signins.wait(body.email, address)
    if wait > 0:
        seconds = retry_after(wait)
        raise HTTPException(
            429,
            f"too many failed sign-ins from this address; try again in {seconds} s",
            {"Retry-After": seconds},
        )
    async with state.runtime.db.new_session() as session:
        user = await accounts.user_by_email(session, body.email)
    stored = None if user is None else user.password_hash
    matches = await asyncio.to_thread(state.signins.matches, stored, body.password)  # always
    if user is None or not matches:
        await state.signins.failed(body.email, address)
        raise HTTPException(401, "wrong email or password")
    await state.signins.succeeded(body.email, address)
    return await _sign_in(user, response, state)


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response, caller: CurrentCaller, state: State) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with state.runtime.db.new_session() as session, session.begin():
            await accounts.delete_session(session, digest(cookie))
    response.delete_cookie(SESSION_COOKIE, path="/")


async def _sign_in(user: User, response: Response, state: State) -> dict[str, Any]:
    session_id, csrf = new_secret(), secrets.token_urlsafe(24)
    lifetime = timedelta(days=state.settings.session_days)
    async with state.runtime.db.new_session() as session, session.begin():
        await accounts.create_session(session, user.id, digest(session_id), csrf, lifetime)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=state.settings.public_origin.startswith("https://"),
        path="/",
    )
    return {"user": user_json(user), "csrf_token": csrf}
