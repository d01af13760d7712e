"""Exceptions whose messages a user can act on.

Every error Plait raises on purpose derives from `PlaitError`. Where an error
belongs to a place in a flow it carries the node id and port, so callers (the
CLI, the API, the canvas) can point at it without parsing the message.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar


class Category(StrEnum):
    """Whose move it is when a node fails: what a caller, the operator or nobody can do.

    `INPUT` is the flow's input (change the prompt or the images); `CONFIGURATION` is
    Plait's set-up (the key, billing, region, the model); the other three are the image
    provider's side: `UNAVAILABLE` (overloaded, failing or rate-limited: try again later),
    `TIMEOUT` (no answer in time) and `BAD_ANSWER` (an answer Plait cannot use).
    """

    INPUT = "input"
    CONFIGURATION = "configuration"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    BAD_ANSWER = "bad_answer"

    @classmethod
    def of(cls, value: str | None) -> Category | None:
        """The category a stored value names; None for none or one this version lacks."""
        if value is None:
            return None
        try:
            return cls(value)
        except ValueError:
            return None

    @property
    def side(self) -> str:
        """`input`, `configuration` or `provider`: the three parties a failure can lie with."""
        if self in (Category.INPUT, Category.CONFIGURATION):
            return self.value
        return "provider"


class PlaitError(Exception):
    """Base class for errors meant to be shown to a user.

    `category` says whose move it is (None: not known); `retry_after` is how long the
    image provider asked callers to wait, in seconds, when it said.
    """

    category: ClassVar[Category | None] = None
    retry_after: float | None = None

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

    category: ClassVar[Category | None] = Category.INPUT

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


class NodeInputError(NodeError):
    """A node could not use what it was given (a URL to fetch, a file to read): the input or
    the node's settings must change; a published call answers 422 naming the node."""

    category: ClassVar[Category | None] = Category.INPUT


class ServiceUnavailable(PlaitError):
    """A shared service this process depends on (Redis, the blob store) cannot be reached
    or failed: nobody's mistake, try again shortly (the API answers 503 naming only the
    service; the message, for the operator, goes to the log)."""

    category: ClassVar[Category | None] = Category.UNAVAILABLE
    service: ClassVar[str] = "a service Plait depends on"


class MediaError(PlaitError):
    """An image could not be decoded, or is of a type or size Plait refuses: the image a
    node was given must change (a published call answers 422 naming the node)."""

    category: ClassVar[Category | None] = Category.INPUT


class ProviderError(NodeError):
    """An image model provider refused or failed a request (on its side, unless a
    subclass says otherwise)."""

    category: ClassVar[Category | None] = Category.BAD_ANSWER


class ProviderInputError(ProviderError):
    """The provider would not make an image of this input: a blocked prompt, a safety
    stop, an answer in words only. Changing the prompt or the images is the way on."""

    category = Category.INPUT


class ProviderConfigError(ProviderError):
    """The provider refused Plait's set-up: the key, billing, the region, the model."""

    category = Category.CONFIGURATION


class ProviderUnavailable(ProviderError):
    """The provider was overloaded, failing or rate-limited on the last allowed attempt."""

    category = Category.UNAVAILABLE

    def __init__(self, message: str, *, retry_after: float | None = None):
        super().__init__(message, retryable=True)
        self.retry_after = retry_after


class ProviderTimeout(ProviderUnavailable):
    """The provider did not answer within the allowed time on the last attempt."""

    category = Category.TIMEOUT
