"""Repository functions for users, browser sessions and API tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from plait.ids import new_id
from plait.store.tables import ApiToken, AuthSession, StoredSetting, User, utcnow


async def count_users(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(User)) or 0)


async def create_user(
    session: AsyncSession, email: str, password_hash: str, *, is_admin: bool
) -> User:
    user = User(id=new_id(), email=email.lower(), password_hash=password_hash, is_admin=is_admin)
    session.add(user)
    await session.flush()
    return user


FIRST_ADMIN = "accounts.first_admin"  # a settings row: its key's uniqueness makes one first


async def create_first_admin(session: AsyncSession, email: str, password_hash: str) -> User | None:
    """Create the first admin in a transaction of its own (`session` has none begun),
    unless an account exists or another process (or request) creates one at the same
    moment: then None. The marker row is written first, so concurrent callers queue on its
    primary key and all but one fail; the count then sees accounts made before the marker
    existed (older databases)."""
    try:
        async with session.begin():
            session.add(StoredSetting(key=FIRST_ADMIN, value=email.lower()))
            await session.flush()
            if await count_users(session):
                raise _AccountsExist
            return await create_user(session, email, password_hash, is_admin=True)
    except (IntegrityError, _AccountsExist):
        return None


class _AccountsExist(Exception):
    pass


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def create_session(
    session: AsyncSession, user_id: str, id_hash: str, csrf_token: str, lifetime: timedelta
) -> None:
    session.add(
        AuthSession(
            id_hash=id_hash,
            user_id=user_id,
            csrf_token=csrf_token,
            expires_at=utcnow() + lifetime,
        )
    )
    await session.flush()


async def session_user(session: AsyncSession, id_hash: str) -> tuple[User, str] | None:
    """The user and CSRF token of a live browser session."""
    row = await session.execute(
        select(User, AuthSession.csrf_token)
        .join(AuthSession, AuthSession.user_id == User.id)
        .where(AuthSession.id_hash == id_hash, AuthSession.expires_at > utcnow())
    )
    found = row.first()
    return None if found is None else (found[0], found[1])


async def delete_session(session: AsyncSession, id_hash: str) -> None:
    await session.execute(delete(AuthSession).where(AuthSession.id_hash == id_hash))


async def create_token(
    session: AsyncSession,
    user_id: str,
    name: str,
    token_hash: str,
    hint: str,
    *,
    scopes: str,
    expires_at: datetime | None = None,
) -> ApiToken:
    token = ApiToken(
        id=new_id(),
        user_id=user_id,
        name=name,
        token_hash=token_hash,
        hint=hint,
        scopes=scopes,
        expires_at=expires_at,
    )
    session.add(token)
    await session.flush()
    return token


async def token_user(session: AsyncSession, token_hash: str) -> tuple[User, ApiToken] | None:
    """The owner of a live (unexpired) API token and the token, noting when it was last used
    (at most once a minute)."""
    now = utcnow()
    row = (
        await session.execute(
            select(User, ApiToken)
            .join(ApiToken, ApiToken.user_id == User.id)
            .where(ApiToken.token_hash == token_hash)
        )
    ).first()
    if row is None:
        return None
    user, token = row
    if token.expires_at is not None and token.expires_at <= now:
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
    return user, token


async def list_tokens(session: AsyncSession, user_id: str) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at)
    return list(await session.scalars(query))


async def delete_token(session: AsyncSession, user_id: str, token_id: str) -> bool:
    result = await session.execute(
        delete(ApiToken).where(ApiToken.id == token_id, ApiToken.user_id == user_id)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
