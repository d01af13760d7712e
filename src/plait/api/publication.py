"""A flow's publication as the API shows it: version, limit, endpoints, secret hint."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from plait.api.state import ServerState
from plait.store import flows as flow_store
from plait.store.tables import FlowRecord

SECRET_PLACEHOLDER = "<SECRET>"  # noqa: S105 (a placeholder shown in examples)


def trigger_url(state: ServerState, secret: str, node_id: str) -> str:
    return f"{state.settings.public_origin}/api/trigger/{secret}/{node_id}"


async def _spending(state: ServerState, flow_id: str) -> dict[str, Any]:
    spent, in_flight, resets_at = await state.budgets.spent_today(flow_id)
    return {
        "spent_usd": round(spent, 6),
        "in_flight_usd": round(in_flight, 6),
        "resets_at": resets_at.isoformat(),
    }


def trigger_nodes(document: dict[str, Any] | None) -> list[str]:
    nodes = (document or {}).get("nodes", [])
    return [n["id"] for n in nodes if n.get("type") == "http_trigger"]


async def publication_json(
    session: AsyncSession, state: ServerState, flow: FlowRecord, secret: str | None = None
) -> dict[str, Any] | None:
    publication = await flow_store.get_publication(session, flow.id)
    if publication is None:
        return None
    document = await flow_store.version_document(session, flow.id, publication.version)
    secrets = await flow_store.live_secrets(session, flow.id)
    shown = secret or SECRET_PLACEHOLDER
    answer: dict[str, Any] = {
        "flow_id": flow.id,
        "version": publication.version,
        "published_at": publication.published_at,
        "rate_limit_per_minute": flow.rate_limit_per_minute,
        "daily_budget_usd": flow.daily_budget_usd,
        "mcp": flow.mcp,
        "spending_today": await _spending(state, flow.id),
        "triggers": [
            {"node_id": node_id, "url": trigger_url(state, shown, node_id)}
            for node_id in trigger_nodes(document)
        ],
        "secret_hint": secrets[0].hint if secrets else None,
        "secrets_active": len(secrets),
    }
    if secret is not None:
        answer["secret"] = secret
    return answer
