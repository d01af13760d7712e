"""Encrypting stored secrets (the Gemini key) under the master key with MultiFernet.

`PLAIT_SECRET_KEY` may list several keys separated by commas, newest first: values
are encrypted with the first and decrypted with any, so the master key can be
rotated without losing what is stored.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from plait.errors import PlaitError


class VaultError(PlaitError):
    """A stored secret cannot be decrypted with the configured master key(s)."""


class Vault:
    def __init__(self, master_keys: str):
        keys = [k.strip() for k in master_keys.split(",") if k.strip()]
        self._fernet = MultiFernet([Fernet(_fernet_key(k)) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise VaultError(
                "a stored secret cannot be decrypted: PLAIT_SECRET_KEY changed; "
                "list the old key after the new one (comma-separated) or store the secret again"
            ) from None


def _fernet_key(master: str) -> bytes:
    """Any master string becomes a Fernet key; separate purposes derive separate keys."""
    return base64.urlsafe_b64encode(hashlib.sha256(b"plait-vault:" + master.encode()).digest())


__all__ = ["Vault", "VaultError"]
