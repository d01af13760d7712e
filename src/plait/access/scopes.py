"""API token scopes: what each route needs and what each scope grants.

`run` starts and follows runs and batches; `read` reads flows, runs and settings; `write`
edits flows and publications (and reads); `admin` manages tokens and the Gemini key (and
everything else). A browser session holds every scope. A route needs one of the scopes in
its entry; routes not listed need `read` to read (GET) and `write` to change anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class Scope(StrEnum):
    RUN = "run"
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


ALL = frozenset(Scope)
_IMPLIES: dict[Scope, frozenset[Scope]] = {
    Scope.ADMIN: ALL,
    Scope.WRITE: frozenset({Scope.WRITE, Scope.READ}),
    Scope.READ: frozenset({Scope.READ}),
    Scope.RUN: frozenset({Scope.RUN}),
}

_RUN_OR_READ = frozenset({Scope.RUN, Scope.READ})
_RUN = frozenset({Scope.RUN})
_ADMIN = frozenset({Scope.ADMIN})
_ANY = ALL

# (method, route path) -> the scopes any one of which lets a token through
ROUTE_SCOPES: dict[tuple[str, str], frozenset[Scope]] = {
    # running flows (what an agent or a script that only runs published flows needs)
    ("POST", "/api/flows/{flow_id}/runs"): _RUN,
    ("POST", "/api/runs/{run_id}/cancel"): _RUN,
    ("POST", "/api/flows/{flow_id}/batches"): _RUN,
    ("POST", "/api/flows/{flow_id}/batches/estimate"): _RUN_OR_READ,
    ("POST", "/api/batches/{batch_id}/cancel"): _RUN,
    ("POST", "/api/batches/{batch_id}/retry"): _RUN,
    ("POST", "/api/batches/{batch_id}/resume"): _RUN,
    ("POST", "/api/uploads"): frozenset({Scope.RUN, Scope.WRITE}),
    ("GET", "/api/flows"): _RUN_OR_READ,
    ("GET", "/api/flows/{flow_id}"): _RUN_OR_READ,
    ("GET", "/api/flows/{flow_id}/publication"): _RUN_OR_READ,
    ("GET", "/api/flows/{flow_id}/openapi.json"): _RUN_OR_READ,
    ("GET", "/api/runs"): _RUN_OR_READ,
    ("GET", "/api/runs/{run_id}"): _RUN_OR_READ,
    ("GET", "/api/runs/{run_id}/events"): _RUN_OR_READ,
    ("GET", "/api/batches"): _RUN_OR_READ,
    ("GET", "/api/batches/{batch_id}"): _RUN_OR_READ,
    ("GET", "/api/batches/{batch_id}/events"): _RUN_OR_READ,
    ("GET", "/api/batches/{batch_id}/results.zip"): _RUN_OR_READ,
    ("GET", "/api/node-types"): _RUN_OR_READ,
    ("GET", "/api/models"): _RUN_OR_READ,
    ("POST", "/api/validate"): _RUN_OR_READ,
    # tokens and the Gemini key; any token may mint one narrower than itself
    ("GET", "/api/tokens"): _ADMIN,
    ("POST", "/api/tokens"): _ANY,
    ("DELETE", "/api/tokens/{token_id}"): _ADMIN,
    ("PUT", "/api/settings/gemini-key"): _ADMIN,
    ("DELETE", "/api/settings/gemini-key"): _ADMIN,
    ("POST", "/api/auth/logout"): _ANY,
}

_READING = {"GET", "HEAD", "OPTIONS"}


def required(method: str, path: str) -> frozenset[Scope]:
    """The scopes, any one of which a token needs for this route."""
    found = ROUTE_SCOPES.get(("GET" if method == "HEAD" else method, path))
    if found is not None:
        return found
    return frozenset({Scope.READ}) if method in _READING else frozenset({Scope.WRITE})


def granted(scopes: Iterable[Scope]) -> frozenset[Scope]:
    """Everything the scopes allow, implications included (admin holds them all)."""
    return frozenset().union(*(_IMPLIES[s] for s in scopes))


def allows(held: Iterable[Scope], method: str, path: str) -> bool:
    return bool(granted(held) & required(method, path))


def may_run_drafts(held: Iterable[Scope]) -> bool:
    """Whether a run may be of a document sent with it (any graph) rather than a saved
    version: what editing flows allows, not running them."""
    return Scope.WRITE in granted(held)


def parse(text: str) -> frozenset[Scope]:
    """Stored form (space-separated) to scopes; unknown words are dropped."""
    known = {s.value for s in Scope}
    return frozenset(Scope(word) for word in text.split() if word in known)


def stored(scopes: Iterable[Scope]) -> str:
    held = {Scope(s) for s in scopes}
    return " ".join(s.value for s in Scope if s in held)


def describe(scopes: Iterable[Scope]) -> str:
    return ", ".join(stored(scopes).split()) or "none"
