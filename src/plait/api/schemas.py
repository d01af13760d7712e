"""The shapes of the API's JSON answers, declared on each route so that `/openapi.json`
describes every answer (the canvas's types are generated from it: docs/canvas.md).

Each model is the answer's contract, checked on every response. The routes still build
their answers as plain dicts; a key a model does not name yet passes through unchanged
(`extra="allow"`), and a key a model marks optional is left out when the route leaves
it out (`answers` sets `response_model_exclude_unset`), so declaring a model never
changes what a route answers. Times are given as the route gives them (ISO 8601 text).
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import Response
from pydantic import BaseModel, BeforeValidator, ConfigDict


def _iso(value: object) -> object:
    """A stored time as FastAPI's encoder writes it (`isoformat`), unchanged otherwise."""
    return value.isoformat() if isinstance(value, (datetime, date)) else value


Time = Annotated[str, BeforeValidator(_iso)]
"""An ISO 8601 date-time."""

Number = int | float
"""A JSON number, kept as given (an integer stays an integer)."""

JsonObject = dict[str, Any]


def _exact(schema: dict[str, Any]) -> None:
    schema.pop("additionalProperties", None)


class Answer(BaseModel):
    """A JSON answer: the keys it declares, and any the route adds beyond them."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_exact)


def answers(model: Any, **more: Any) -> dict[str, Any]:
    """The route decorator's keywords declaring `model` (e.g. a list of answers)."""
    return {"response_model": model, "response_model_exclude_unset": True, **more}


# ---- auth ----


class User(Answer):
    id: str | int
    email: str
    is_admin: bool


class AuthState(Answer):
    setup_required: bool
    user: User | None
    csrf_token: str | None


class SignedIn(Answer):
    user: User
    csrf_token: str


TokenScope = Literal["run", "read", "write", "admin"]


class ApiTokenSummary(Answer):
    id: str | int
    name: str
    hint: str | None
    scopes: list[TokenScope]
    created_at: Time
    last_used_at: Time | None
    expires_at: Time | None


class ApiTokenCreated(ApiTokenSummary):
    token: str
    """The token itself, shown once."""


# ---- problems ----


class Problem(Answer):
    node_id: str | None
    port: str | None
    field: str | None
    message: str
    row: int | None = None
    """A batch's rows file: 1 = the first data row."""


# ---- catalog ----

PortType = Literal["text", "number", "boolean", "json", "image", "image_list", "any"]


class Port(Answer):
    name: str
    type: PortType
    required: bool
    config_fallback: bool
    description: str


class NodeTypeInfo(Answer):
    type: str
    title: str
    category: str
    description: str
    version: int
    is_trigger: bool
    config_schema: JsonObject
    inputs: list[Port]
    outputs: list[Port]
    default_config: JsonObject | None = None
    """A valid starting config."""


class TokenPrices(Answer):
    input: Number
    output_image: Number
    output_text: Number
    thinking: Number | None


class Source(Answer):
    """Where a catalog fact was read, and when."""

    url: str
    read: str
    note: str | None


class ModelInfo(Answer):
    """A catalog model (docs/models.md), and whether this server's key can use it."""

    id: str
    label: str
    lifecycle: Literal["preview", "ga", "deprecated", "shut_down"]
    """preview, ga, deprecated (runs, with a warning) or shut_down (refused)."""
    released: str | None
    deprecated: str | None
    shutdown: str | None
    successor: str | None
    lifecycle_note: str | None
    aliases: list[str]
    dimensions: dict[str, list[int]]
    """Width and height in pixels by aspect ratio."""
    sizes: dict[str, Number]
    default_size: str | None
    max_references: int
    price_per_image: dict[str, dict[str, Number]]
    """US dollars by tier (standard, batch), then by image size."""
    price_per_million_tokens: TokenPrices
    sources: dict[str, Source]
    aspect_ratios: list[str]
    image_sizes: list[str]
    default: bool
    available: bool | None
    """Whether the server's Gemini key lists this model; null when not known."""


class KeyModels(Answer):
    checked: Number
    not_in_catalog: list[str]


class ModelCatalog(Answer):
    default: str
    checked: str | None
    models: list[ModelInfo]
    key: KeyModels | None
    """The key's model list, when the server has a key."""


class NodePorts(Answer):
    inputs: list[Port]
    outputs: list[Port]


class ValidateAnswer(Answer):
    valid: bool
    problems: list[Problem]
    warnings: list[Problem] | None = None
    ports: dict[str, NodePorts]


class Template(Answer):
    id: str
    name: str
    description: str
    document: JsonObject


class HealthCheck(Answer):
    ok: bool
    error: str | None = None


class Health(Answer):
    status: Literal["ok", "unavailable"]
    version: str
    checks: dict[str, HealthCheck]


# ---- flows ----


class FlowSummary(Answer):
    id: str
    name: str
    description: str
    version: int
    created_at: Time
    updated_at: Time
    published_version: int | None
    rate_limit_per_minute: int


class TriggerEndpoint(Answer):
    node_id: str
    url: str


class Spending(Answer):
    spent_usd: Number
    in_flight_usd: Number
    resets_at: Time


class Publication(Answer):
    flow_id: str
    version: int
    published_at: Time
    rate_limit_per_minute: int
    daily_budget_usd: Number | None
    """Most the triggers may spend per UTC day; null: no cap."""
    mcp: bool
    """Offered to MCP clients as a tool (at /mcp)."""
    spending_today: Spending
    triggers: list[TriggerEndpoint]
    secret_hint: str | None
    secrets_active: int
    """How many secrets work now (2 during a rotation's grace period)."""
    secret: str | None = None
    """The secret itself, shown once (on publishing and rotating)."""


class SecretRotated(Answer):
    """A new secret for a flow that is not published (yet)."""

    flow_id: str
    secret: str
    version: None
    triggers: list[TriggerEndpoint]


class FlowDetail(FlowSummary):
    document: JsonObject
    publication: Publication | None


class VersionSummary(Answer):
    number: int
    hash: str
    created_at: Time
    created_by: str | int | None
    message: str | None
    """What changed, as given on save."""
    publishable: bool
    """Whether it can serve as the published API (valid, with an HTTP Trigger)."""
    problems: list[Problem]
    """Why it cannot, each naming its node and field."""


class VersionDetail(Answer):
    number: int
    hash: str
    created_at: Time
    message: str | None = None
    document: JsonObject


class FieldChange(Answer):
    path: str
    before: Any
    after: Any


class NodeChange(Answer):
    id: str
    changes: list[FieldChange]


class NodeChanges(Answer):
    added: list[str]
    removed: list[str]
    changed: list[NodeChange]


class EdgeChanges(Answer):
    added: list[str]
    removed: list[str]


class FlowDiff(Answer):
    a: int
    b: int
    nodes: NodeChanges
    edges: EdgeChanges


class OpenApiDocument(Answer):
    """A published flow's own OpenAPI document: its trigger URLs, fields and outputs."""

    openapi: str
    info: JsonObject
    paths: JsonObject


class CodeExamples(Answer):
    curl: str
    python: str
    javascript: str


# ---- runs ----

RunStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
NodeRunStatus = Literal[
    "pending", "queued", "running", "succeeded", "failed", "cached", "skipped", "cancelled"
]


class RunSummary(Answer):
    id: str
    flow_id: str | None
    """Null for a run of a flow file (`plait run`)."""
    flow_version: int | None
    """The saved version it ran; null: an unsaved draft."""
    flow_hash: str
    source: str
    """editor, trigger, batch or cli."""
    inputs: Any
    status: RunStatus
    created_at: Time
    started_at: Time | None
    finished_at: Time | None
    duration_ms: Number | None
    cost_usd: Number | None
    input_tokens: int | None
    output_tokens: int | None
    backend: str | None
    error: str | None
    failed_node: str | None
    error_category: str | None
    thumbnail: str | None


class NodeRunRecord(Answer):
    node_id: str
    node_type: str
    status: NodeRunStatus
    inputs: Any
    outputs: Any
    backend: str | None
    input_tokens: int | None
    output_tokens: int | None
    cost_usd: Number | None
    cache_hit: bool
    error: str | None
    error_port: str | None
    warnings: list[Any]
    started_at: Time | None
    finished_at: Time | None
    duration_ms: Number | None


class RunDetail(RunSummary):
    result: Any
    nodes: list[NodeRunRecord]


class RunDocument(Answer):
    """The exact document a run ran: a saved version, or an unsaved draft."""

    flow_version: int | None
    flow_hash: str
    document: JsonObject | None


class RunStarted(Answer):
    run_id: str


class RunCancel(Answer):
    run_id: str
    status: Literal["cancelling", "cancelled"]


class ImageRef(Answer):
    sha256: str
    media_type: str
    width: int
    height: int
    size: int


class UploadAnswer(Answer):
    image: JsonObject
    """The image's reference, `{"$image": {...}}`, to put in a flow's inputs."""
    url: str


class TriggerStatus(Answer):
    """A published run's state, as the trigger's status URL gives it."""

    run_id: str
    status: RunStatus
    status_url: str
    result: Any = None
    error: str | None = None
    node_id: str | None = None
    category: str | None = None


# ---- batches ----

BatchRowStatus = Literal["pending", "running", "succeeded", "failed", "skipped"]


class EstimateLine(Answer):
    node_id: str
    model: str
    image_size: str | None
    images: Number
    price_usd: Number


class BatchEstimate(Answer):
    rows: int
    images_per_row: Number
    per_row_usd: Number
    total_usd: Number
    free: bool
    description: str
    lines: list[EstimateLine]


class BatchEstimateAnswer(Answer):
    flow_id: str
    flow_version: int
    trigger_id: str | None
    estimate: BatchEstimate


class RowCounts(Answer):
    """How many of a batch's rows are in each state."""

    pending: int
    running: int
    succeeded: int
    failed: int
    skipped: int


class BatchSummary(Answer):
    id: str
    flow_id: str | None
    flow_version: int | None
    rows_file: str
    source: Literal["server", "cli"]
    state: Literal["running", "finished", "cancelled"] | None
    active: bool
    created_at: Time
    total_rows: int
    counts: RowCounts
    settled: int
    cost_usd: Number
    estimate_usd: Number | None
    budget_usd: Number | None
    concurrency: int | None
    eta_seconds: Number | None


class Thumbnails(Answer):
    inputs: list[str]
    outputs: list[str]


class BatchRow(Answer):
    number: int
    given: JsonObject
    status: BatchRowStatus
    error: str | None
    cost_usd: Number
    attempts: int
    run_id: str | None
    thumbnails: Thumbnails
    """Links to the row's input images and to the images its run made (a few of each)."""


class BatchDetail(BatchSummary):
    rows: list[BatchRow]


# ---- settings ----


class GeminiKey(Answer):
    source: Literal["environment", "stored"] | None
    hint: str | None


class Settings(Answer):
    backend: Literal["gemini", "preview"]
    gemini_key: GeminiKey
    mcp_url: str
    """The MCP endpoint (Streamable HTTP) of this server."""


def raw(*media_types: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The route decorator's keywords for an answer that is not JSON (a stream, a file):
    its media types, each with `schema`, instead of FastAPI's default `application/json`."""
    content = {kind: {"schema": schema} for kind in media_types}
    return {"response_class": Response, "responses": {200: {"content": content}}}


BINARY = {"type": "string", "format": "binary"}
EVENTS = raw("text/event-stream", schema={"type": "string"})
"""Server-sent events, each `data:` line a JSON object."""
ZIP = raw("application/zip", schema=BINARY)
IMAGE = raw("image/png", "image/jpeg", "image/webp", schema=BINARY)
