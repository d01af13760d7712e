"""The first admin: from PLAIT_ADMIN_EMAIL / PLAIT_ADMIN_PASSWORD, or a one-time set-up link."""

from __future__ import annotations

import logging
import sys

from plait.crypto.passwords import hash_password, password_problem
from plait.crypto.tokens import new_secret
from plait.errors import PlaitError
from plait.settings import Settings
from plait.store import accounts
from plait.store.db import Database

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


async def first_admin(db: Database, settings: Settings) -> str | None:
    """Create the admin from the environment, or return a set-up token (None: users exist)."""
    if await accounts_exist(db):
        return None
    if settings.admin_email and settings.admin_password:
        password = hash_password(settings.admin_password.get_secret_value())
        async with db.new_session() as session:
            made = await accounts.create_first_admin(session, settings.admin_email, password)
        if made is not None:  # else another process starting with us made it
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


async def accounts_exist(db: Database) -> bool:
    async with db.new_session(after_journal=False) as session:
        return bool(await accounts.count_users(session))
