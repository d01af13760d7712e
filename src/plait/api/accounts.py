"""The first admin: from PLAIT_ADMIN_EMAIL / PLAIT_ADMIN_PASSWORD, or a one-time set-up link."""

from __future__ import annotations

import logging
import sys

from plait.api.state import ServerState
from plait.crypto.passwords import hash_password, password_problem
from plait.crypto.tokens import new_secret
from plait.errors import PlaitError
from plait.settings import Settings
from plait.store import accounts

log = logging.getLogger(__name__)


class AdminSetupError(PlaitError):
    """PLAIT_ADMIN_EMAIL / PLAIT_ADMIN_PASSWORD break the rules set-up follows."""


def check_admin_settings(settings: Settings) -> None:
    """Refuse to start with an admin password that set-up would refuse (a clear error)."""
    if settings.admin_password is None:
        return
    problem = password_problem(settings.admin_password.get_secret_value())
    if problem is not None:
        raise AdminSetupError(f"PLAIT_ADMIN_PASSWORD: {problem}; choose a longer one")


async def first_admin(state: ServerState) -> str | None:
    """Create the admin from the environment, or return a set-up token (None: users exist)."""
    settings = state.settings
    async with state.runtime.db.new_session() as session, session.begin():
        if await accounts.count_users(session):
            return None
        if settings.admin_email and settings.admin_password:
            password = settings.admin_password.get_secret_value()
            await accounts.create_user(
                session, settings.admin_email, hash_password(password), is_admin=True
            )
            log.info("created the admin account %s from the environment", settings.admin_email)
            return None
    token = new_secret()
    # Printed, never logged: the one-time link is for the person starting the server.
    print(
        f"\nplait: no account yet. Open this one-time link to create the admin:\n"
        f"  {settings.public_origin}/setup?token={token}\n",
        file=sys.stderr,
        flush=True,
    )
    return token
