"""Reading flow files: JSON errors and document-shape errors as clear messages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from plait import jsonlimits
from plait.errors import FlowFileError, FlowInvalid, Problem
from plait.flows.model import Flow
from plait.jsonlimits import JsonLimitError


def load_flow(path: Path) -> Flow:
    """Read and parse a flow file; raises FlowFileError or FlowInvalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowFileError(f"flow file not found: {path}") from None
    except IsADirectoryError:
        raise FlowFileError(f"{path} is a folder; give the path of a flow .json file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowFileError(f"cannot read {path}: {exc}") from None
    return parse_flow(text, source=str(path))


def parse_flow(text: str, source: str = "the flow") -> Flow:
    try:
        data = jsonlimits.loads(text)
    except json.JSONDecodeError as exc:
        raise FlowFileError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except JsonLimitError as exc:
        raise FlowFileError(f"{source}: {exc}") from None
    return flow_from_document(data, source)


def flow_from_document(data: Any, source: str = "the flow") -> Flow:
    if not isinstance(data, dict):
        raise FlowFileError(f"{source} must be a JSON object with 'nodes' and 'edges'")
    try:
        return Flow.model_validate(data)
    except ValidationError as exc:
        raise FlowInvalid(
            [_problem(data, error) for error in exc.errors(include_url=False)]
        ) from None


def _problem(data: dict[str, Any], error: Any) -> Problem:
    loc = [str(part) for part in error["loc"]]
    message = error["msg"].removeprefix("Value error, ")
    if loc[:1] == ["format"]:
        return Problem(f"unsupported format {data.get('format')!r}; this Plait reads format 1")
    node_id = _node_id(data, loc)
    where = ".".join(loc)
    return Problem(f"{where}: {message}", node_id=node_id)


def _node_id(data: dict[str, Any], loc: list[str]) -> str | None:
    if len(loc) >= 2 and loc[0] == "nodes" and loc[1].isdigit():
        nodes = data.get("nodes")
        if (
            isinstance(nodes, list)
            and int(loc[1]) < len(nodes)
            and isinstance(nodes[int(loc[1])], dict)
        ):
            node_id = nodes[int(loc[1])].get("id")
            return node_id if isinstance(node_id, str) else None
    return None
