"""A published flow's call refused before its run starts.

Each refusal's message says what went wrong and what to do; the HTTP route maps each kind
to a status code (`plait.api.errors`) and the MCP server to a tool error, both with this
message."""

from __future__ import annotations

from plait.publishing.ratelimit import Verdict

MAX_IDEMPOTENCY_KEY = 255


class CallRefused(Exception):
    """A call to a published flow refused before any run started."""


class RateLimited(CallRefused):
    """The trigger's requests-per-minute limit is reached."""

    def __init__(self, verdict: Verdict):
        self.verdict = verdict
        super().__init__(
            f"over this trigger's limit of {verdict.limit} requests per minute; "
            f"retry after {verdict.headers()['Retry-After']} s"
        )


class BadIdempotencyKey(CallRefused):
    """An Idempotency-Key that is empty or too long."""

    def __init__(self) -> None:
        super().__init__(f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters")
