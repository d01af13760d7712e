"""Who is calling: a browser session (cookie + CSRF header) or an API token (Bearer).

Private routers depend on `require_user`; the few public routes are listed in
`PUBLIC_ROUTES`, and a test checks every other route answers 401 without credentials.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from plait.access import scopes
from plait.access.scopes import Scope
from plait.api.state import ServerState, server_state
from plait.crypto.tokens import digest, same
from plait.store import accounts
from plait.store.tables import User

SESSION_COOKIE = "plait_session"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "plait_"  # noqa: S105 (a prefix, not a secret)
_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}

PUBLIC_ROUTES = {
    ("GET", "/api/health"),
    ("GET", "/api/auth/state"),
    ("POST", "/api/auth/setup"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/trigger/{secret}/{node_id}"),
    ("GET", "/api/trigger/{secret}/{node_id}"),  # 405: a trigger takes POST
    ("GET", "/api/trigger/{secret}/runs/{run_id}"),
    ("GET", "/files/{blob_id}"),
}


@dataclass(frozen=True)
class Caller:
    user: User
    csrf_token: str | None  # set for browser sessions
    scopes: frozenset[Scope] = scopes.ALL  # a browser session holds every scope
    expires_at: datetime | None = None  # an API token's expiry


async def identify(request: Request, state: ServerState) -> Caller | None:
    """The signed-in caller, or None. Does not check CSRF."""
    authorization = request.headers.get("authorization", "")
    scheme, _, credential = authorization.partition(" ")
    async with state.runtime.db.new_session(after_journal=False) as session, session.begin():
        if scheme.lower() == "bearer" and credential:
            found_token = await accounts.token_user(session, digest(credential.strip()))
            if found_token is None:
                return None
            user, token = found_token
            return Caller(user, None, scopes.parse(token.scopes), token.expires_at)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            found = await accounts.session_user(session, digest(cookie))
            if found is not None:
                return Caller(found[0], found[1])
    return None


async def require_user(
    request: Request, state: Annotated[ServerState, Depends(server_state)]
) -> Caller:
    caller = await identify(request, state)
    if caller is None:
        raise HTTPException(
            401,
            "sign in, or send an API token as 'Authorization: Bearer plait_…'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if caller.csrf_token is not None and request.method not in _SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same(sent, caller.csrf_token):
            raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header (CSRF protection)")
    _check_scope(request, caller)
    return caller


def _check_scope(request: Request, caller: Caller) -> None:
    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path)
    if not scopes.allows(caller.scopes, request.method, path):
        needed = " or ".join(f"'{s}'" for s in sorted(scopes.required(request.method, path)))
        raise HTTPException(
            403,
            f"this API token's scopes ({scopes.describe(caller.scopes)}) do not allow "
            f"{request.method} {path}: it needs the {needed} scope",
        )


CurrentCaller = Annotated[Caller, Depends(require_user)]
State = Annotated[ServerState, Depends(server_state)]
