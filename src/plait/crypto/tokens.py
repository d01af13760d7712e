"""Opaque bearer secrets (trigger secrets, API tokens, session ids): made, hashed, hinted.

Only the SHA-256 of a secret is stored; it is looked up by that hash. A 256-bit
random secret needs no slow hash: guessing it is infeasible either way.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret(prefix: str = "") -> str:
    """256 random bits, URL-safe, with an optional recognizable prefix."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def hint(secret: str) -> str:
    """The last four characters, the most a stored secret is ever shown by."""
    return "…" + secret[-4:]


def same(sent: str, expected: str) -> bool:
    """Constant-time equality for secrets as sent. `hmac.compare_digest` raises TypeError
    on str with non-ASCII characters (a 500 from any odd header or query value): compare
    the bytes instead."""
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


__all__ = ["digest", "hint", "new_secret", "same"]
