"""Exceptions whose messages a user can act on.

Every error Plait raises on purpose derives from `PlaitError`. Where an error
belongs to a place in a flow it carries the node id and port, so callers (the
CLI, the API, the canvas) can point at it without parsing the message.
"""

from __future__ import annotations


class PlaitError(Exception):
    """Base class for errors meant to be shown to a user."""

    def __init__(self, message: str, *, node_id: str | None = None, port: str | None = None):
        super().__init__(message)
        self.message = message
        self.node_id = node_id
        self.port = port

    def __str__(self) -> str:
        where = located(self.node_id, self.port)
        return f"{where}: {self.message}" if where else self.message


def located(node_id: str | None, port: str | None) -> str:
    """`node 'image', port 'prompt'` style prefix, or '' when nothing is known."""
    parts = []
    if node_id is not None:
        parts.append(f"node '{node_id}'")
    if port is not None:
        parts.append(f"port '{port}'")
    return ", ".join(parts)


class FlowFileError(PlaitError):
    """The flow file cannot be read or is not a flow document."""


class FlowInvalid(PlaitError):
    """A flow has one or more problems; each is listed in `problems`."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __str__(self) -> str:
        return self.message


class Problem(PlaitError):
    """One validation problem in a flow; `field` names a config field when it is one."""

    def __init__(
        self,
        message: str,
        *,
        node_id: str | None = None,
        port: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message, node_id=node_id, port=port)
        self.field = field

    def __str__(self) -> str:
        where = located(self.node_id, self.port)
        if self.field is not None:
            where = f"{where}, field '{self.field}'" if where else f"field '{self.field}'"
        return f"{where}: {self.message}" if where else self.message


class InputError(PlaitError):
    """A run input (trigger field, file) is missing or malformed.

    `problems` lists each bad field (as `Problem`s with `field` set) when there are several.
    """

    def __init__(
        self,
        message: str,
        *,
        node_id: str | None = None,
        port: str | None = None,
        problems: list[Problem] | None = None,
    ):
        super().__init__(message, node_id=node_id, port=port)
        self.problems = problems or []


class NodeError(PlaitError):
    """A node failed while running."""

    def __init__(
        self,
        message: str,
        *,
        node_id: str | None = None,
        port: str | None = None,
        retryable: bool = False,
    ):
        super().__init__(message, node_id=node_id, port=port)
        self.retryable = retryable


class MediaError(PlaitError):
    """An image could not be decoded, or is of a type or size Plait refuses."""


class ProviderError(NodeError):
    """An image model provider refused or failed a request."""
