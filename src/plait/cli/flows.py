"""`plait flows ...`: push flow files to a running server, publish, list, pull."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from plait.cli.app import app, cli_errors, emit, say
from plait.cli.remote import Remote, RemoteError

flows_app = typer.Typer(
    help="Flows on a running Plait server (PLAIT_URL, PLAIT_TOKEN).", no_args_is_help=True
)
app.add_typer(flows_app, name="flows")


@contextmanager
def remote() -> Iterator[Remote]:
    with cli_errors():
        server = Remote.from_environment()
        try:
            yield server
        finally:
            server.close()


@flows_app.command("list")
def list_flows() -> None:
    """List the server's flows: id, newest version, published version, name."""
    with remote() as server:
        for flow in server.call("GET", "/api/flows"):
            published = flow["published_version"] or "-"
            emit(f"{flow['id']}  v{flow['version']}  published: {published}  {flow['name']}")


@flows_app.command()
def push(
    flow: Annotated[Path, typer.Argument(help="The flow file (JSON)")],
    flow_id: Annotated[
        str | None,
        typer.Option("--id", help="Save as a new version of this flow (default: the file's id)"),
    ] = None,
    publish: Annotated[bool, typer.Option(help="Publish the pushed version")] = False,
) -> None:
    """Save FLOW on the server as a new version (if it changed) of the flow named by --id or
    the file's "id"; that flow is created if the server has none. A file without an id makes
    a new flow, and its id is written into the file, so the next push updates it."""
    from plait.flows.loader import load_flow

    with remote() as server:
        document = load_flow(flow)
        target = flow_id or document.id
        body = {"document": document.model_copy(update={"id": target}).to_document()}
        saved = _save(server, target, body)
        if target is None:
            _record_id(flow, saved["id"])
            say(f'{flow}: its "id" is now {saved["id"]}; a later push updates this flow')
        say(f"flow {saved['id']} is at version {saved['version']}")
        emit(saved["id"])
        if publish:
            _publish(server, saved["id"], saved["version"])


def _save(server: Remote, flow_id: str | None, body: dict[str, Any]) -> dict[str, Any]:
    """PUT to the flow if it exists, else POST (the document's id, if any, names it)."""
    if flow_id is not None:
        try:
            saved: dict[str, Any] = server.call("PUT", f"/api/flows/{flow_id}", json=body)
        except RemoteError as exc:
            if exc.status != 404:
                raise
        else:
            return saved
    created: dict[str, Any] = server.call("POST", "/api/flows", json=body)
    return created


def _record_id(path: Path, flow_id: str) -> None:
    """Write `"id"` into the flow file, first, keeping the rest of the document as it was."""
    document = json.loads(path.read_text(encoding="utf-8"))
    document = {"format": document.pop("format", 1), "id": flow_id, **document}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@flows_app.command("publish")
def publish_flow(
    flow_id: Annotated[str, typer.Argument(help="The flow's id")],
    version: Annotated[
        int | None, typer.Option(help="The version to serve (default: newest); older = rollback")
    ] = None,
    daily_budget: Annotated[
        float | None,
        typer.Option(
            "--daily-budget",
            min=0,
            help="Most the triggers may spend per UTC day, in USD (default: unchanged)",
        ),
    ] = None,
    mcp: Annotated[
        bool | None,
        typer.Option(
            "--mcp/--no-mcp",
            help="Offer the flow to MCP clients as a tool, or stop (default: unchanged)",
        ),
    ] = None,
) -> None:
    """Publish a version of a flow as its HTTP API (prints the endpoint; a new secret once)."""
    with remote() as server:
        _publish(server, flow_id, version, daily_budget, mcp)


@flows_app.command()
def budget(
    flow_id: Annotated[str, typer.Argument(help="The flow's id")],
    usd: Annotated[
        float | None,
        typer.Argument(min=0, help="The new daily budget in USD; leave out to show it"),
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="No daily budget at all")] = False,
) -> None:
    """Show or change a published flow's daily budget (its triggers' spending per UTC day)."""
    with remote() as server:
        path = f"/api/flows/{flow_id}/publication"
        if remove or usd is not None:
            publication = server.call("PATCH", path, json={"daily_budget_usd": usd})
        else:
            publication = server.call("GET", path)
        emit(_budget_line(publication))


@flows_app.command()
def pull(
    flow_id: Annotated[str, typer.Argument(help="The flow's id")],
    version: Annotated[int | None, typer.Option(help="A version (default: newest)")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write here, not stdout")] = None,
) -> None:
    """Print (or write) a flow's document."""
    with remote() as server:
        if version is None:
            document = server.call("GET", f"/api/flows/{flow_id}")["document"]
        else:
            document = server.call("GET", f"/api/flows/{flow_id}/versions/{version}")["document"]
        document = {"format": document.pop("format", 1), "id": flow_id, **document}
        text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
        if out is None:
            emit(text.rstrip("\n"))
        else:
            out.write_text(text, encoding="utf-8")


def _publish(
    server: Remote,
    flow_id: str,
    version: int | None,
    daily_budget: float | None = None,
    mcp: bool | None = None,
) -> None:
    body: dict[str, Any] = {"version": version}
    if daily_budget is not None:
        body["daily_budget_usd"] = daily_budget
    if mcp is not None:
        body["mcp"] = mcp
    publication: dict[str, Any] = server.call("POST", f"/api/flows/{flow_id}/publish", json=body)
    say(f"flow {flow_id} serves version {publication['version']}")
    if mcp is not None:
        offered = "offered to MCP clients at /mcp" if publication["mcp"] else "not offered to MCP"
        say(f"flow {flow_id} is {offered}")
    if daily_budget is not None:
        say(_budget_line(publication))
    for trigger in publication["triggers"]:
        emit(trigger["url"])
    if "secret" in publication:
        say("the trigger secret is in the URL above; it is shown only this once")


def _budget_line(publication: dict[str, Any]) -> str:
    spending = publication["spending_today"]
    cap = publication["daily_budget_usd"]
    limit = "no daily budget" if cap is None else f"daily budget ${cap:.2f}"
    return (
        f"flow {publication['flow_id']}: {limit}; ${spending['spent_usd']:.4f} spent today "
        f"(UTC), ${spending['in_flight_usd']:.4f} in runs in flight; resets at "
        f"{spending['resets_at']}"
    )
