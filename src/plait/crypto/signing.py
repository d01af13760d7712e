"""HMAC signatures: expiring links to files, and signed callback bodies."""

from __future__ import annotations

import hashlib
import hmac
import time

from plait.crypto.tokens import same


class Signer:
    """Signs messages with a key derived from the master key for one purpose."""

    def __init__(self, master_key: str, purpose: str):
        first = master_key.split(",")[0].strip()
        self._key = hashlib.sha256(f"plait-{purpose}:{first}".encode()).digest()

    def sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()

    def verify(self, message: str, signature: str) -> bool:
        return same(signature, self.sign(message))


class LinkSigner:
    """`?exp=…&sig=…` for `/files/{id}`. Expiry is rounded up to `granularity`
    seconds so that repeated links to one file are equal and cacheable."""

    def __init__(self, master_key: str, ttl_seconds: int, granularity: int = 3600):
        self._signer = Signer(master_key, "files")
        self.ttl = ttl_seconds
        self.granularity = granularity

    def query(self, blob_id: str, now: float | None = None) -> str:
        at = time.time() if now is None else now
        expires = int(at + self.ttl)
        expires += -expires % self.granularity
        return f"exp={expires}&sig={self._signer.sign(f'{blob_id}:{expires}')}"

    def valid(self, blob_id: str, expires: int, signature: str, now: float | None = None) -> bool:
        at = time.time() if now is None else now
        return expires >= at and self._signer.verify(f"{blob_id}:{expires}", signature)


def body_signature(secret: str, body: bytes) -> str:
    """`sha256=<hex>`: the HMAC a callback receiver checks with its trigger secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


__all__ = ["LinkSigner", "Signer", "body_signature"]
