"""Secrets never reach logs: trigger secrets and query-string values in logged URLs are
masked.

A trigger URL carries its secret in the path (`/api/trigger/<secret>/<node>`), and a query
string may carry anything a caller put there: a `callback_url` with its own token, a
signed link's `sig`. Uvicorn's access log writes every request line, and httpx logs every
outbound URL (a callback may go to another Plait trigger). Every query parameter's value
is shown as `***` except those known to be harmless (`SAFE_QUERY`).
`redact_secrets()` installs `RedactSecrets` on those loggers;
the app factory calls it, so it holds however the server is started (`plait serve`,
`uvicorn --factory`, tests). Other secrets (API tokens, session cookies, passwords, Gemini
keys) travel in headers and bodies, which nothing logs.
"""

from __future__ import annotations

import logging
import re

_TRIGGER_SECRET = re.compile(r"(/api/trigger/)[^/\s?#\"']+")
# a parameter of a query string: its value runs to the next & (an unencoded URL inside it,
# with its own ?query, is part of the value and masked with it)
_QUERY_PARAMETER = re.compile(r"([?&])([^=&\s\"'#?]+)=([^&\s\"'#]*)")
SAFE_QUERY = frozenset(
    {"wait", "flow_id", "batch_id", "status", "limit", "offset", "a", "b", "exp", "alt"}
)
# Loggers that write URLs. A logger's filters see only records made on that very logger,
# not those its children propagate, so each is named.
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "httpx", "httpx2")


def redact(text: str) -> str:
    return _QUERY_PARAMETER.sub(_mask_value, _TRIGGER_SECRET.sub(r"\1***", text))


def _mask_value(match: re.Match[str]) -> str:
    mark, name, _value = match.groups()
    return match.group(0) if name.lower() in SAFE_QUERY else f"{mark}{name}=***"


class RedactSecrets(logging.Filter):
    """Log lines show `/api/trigger/***/node`, never the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _redacted_arg(v) for k, v in record.args.items()}
        record.msg = redact(str(record.msg))
        return True


def _redacted_arg(arg: object) -> object:
    """Strings and URL objects (httpx logs `httpx.URL`s) that hold a trigger path become
    redacted strings; anything else (numbers for `%d`) stays as it is."""
    if isinstance(arg, (int, float)) or arg is None:
        return arg
    text = str(arg)
    return redact(text) if "/api/trigger/" in text or "=" in text else arg


def redact_secrets() -> None:
    """Install the filter on every URL logger, once."""
    for name in URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())
