"""The database tables (SQLAlchemy 2 declarative). Changes need an Alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from plait.textlimits import EMAIL_CHARS, MESSAGE_CHARS, NAME_CHARS


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, Any: JSON}


class FlowDocument(Base):
    """A flow document by content hash: what a run executed, exactly."""

    __tablename__ = "flow_documents"
    hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    document: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Run(Base):
    __tablename__ = "runs"
    __table_args__ = (Index("ix_runs_idempotency", "flow_id", "idempotency_key", unique=True),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    flow_hash: Mapped[str] = mapped_column(ForeignKey("flow_documents.hash"), index=True)
    flow_id: Mapped[str | None] = mapped_column(String(64))  # ix_runs_idempotency leads with it
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    flow_version: Mapped[int | None] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    inputs: Mapped[dict[str, Any]]
    result: Mapped[Any | None]
    error: Mapped[str | None] = mapped_column(Text)
    failed_node: Mapped[str | None] = mapped_column(String(64))
    error_category: Mapped[str | None] = mapped_column(String(16))  # errors.Category
    backend: Mapped[str | None] = mapped_column(String(16))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[float | None]
    # The worker process executing the run, and until when its claim holds unless its
    # heartbeat extends it (plait.engine.leases); both cleared when the run settles.
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires: Mapped[datetime | None] = mapped_column(default=None)


class NodeRun(Base):
    __tablename__ = "node_runs"
    __table_args__ = (UniqueConstraint("run_id", "node_id"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    # the unique (run_id, node_id) serves lookups by run
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    node_id: Mapped[str] = mapped_column(String(64))
    node_type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    inputs: Mapped[dict[str, Any]]
    outputs: Mapped[dict[str, Any]]
    backend: Mapped[str | None] = mapped_column(String(16))
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    cache_hit: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    error_port: Mapped[str | None] = mapped_column(String(64))
    warnings: Mapped[list[str] | None] = mapped_column(JSON)  # e.g. a deprecated model
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    duration_ms: Mapped[float | None]


class NodeCacheEntry(Base):
    __tablename__ = "node_cache"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    outputs: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_CHARS), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuthSession(Base):
    """A signed-in browser: looked up by the hash of its cookie value."""

    __tablename__ = "auth_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(64), default="run read write")  # access/scopes
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]


class FlowRecord(Base):
    """A flow: its name and settings; its documents are its versions."""

    __tablename__ = "flows"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(NAME_CHARS))
    description: Mapped[str] = mapped_column(Text, default="")
    current_version: Mapped[int] = mapped_column(Integer, default=0)
    rate_limit_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    daily_budget_usd: Mapped[float | None] = mapped_column(Float)  # triggers' cap; None: none
    mcp: Mapped[bool] = mapped_column(Boolean, default=False)  # offered to MCP clients as a tool
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class FlowVersion(Base):
    """An immutable saved document of a flow, numbered 1, 2, …"""

    __tablename__ = "flow_versions"
    flow_id: Mapped[str] = mapped_column(
        ForeignKey("flows.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(ForeignKey("flow_documents.hash"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(EMAIL_CHARS))
    message: Mapped[str | None] = mapped_column(
        String(MESSAGE_CHARS), default=None
    )  # given on save


class Publication(Base):
    """Which version a flow's triggers serve."""

    __tablename__ = "publications"
    flow_id: Mapped[str] = mapped_column(
        ForeignKey("flows.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)


class TriggerSecret(Base):
    """A flow's trigger secret, stored as its hash; a rotated one expires after a grace period."""

    __tablename__ = "trigger_secrets"
    secret_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    flow_id: Mapped[str] = mapped_column(ForeignKey("flows.id", ondelete="CASCADE"), index=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]


class BudgetDay(Base):
    """A published flow's trigger spending on one UTC day, shared by every process: the
    recorded cost of its settled runs and the estimates of its runs in flight."""

    __tablename__ = "budget_days"
    flow_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    spent_usd: Mapped[float] = mapped_column(Float, default=0.0)
    reserved_usd: Mapped[float] = mapped_column(Float, default=0.0)
    in_flight: Mapped[int] = mapped_column(Integer, default=0)


class StoredSetting(Base):
    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Batch(Base):
    """A bulk run: one flow document × many input rows (`plait batch`)."""

    __tablename__ = "batches"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    flow_hash: Mapped[str] = mapped_column(ForeignKey("flow_documents.hash"))
    flow_path: Mapped[str] = mapped_column(Text)
    rows_path: Mapped[str] = mapped_column(Text)
    trigger_id: Mapped[str | None] = mapped_column(String(64))
    out_dir: Mapped[str | None] = mapped_column(Text)
    total_rows: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Batches started through the server (the CLI's leave these empty): the flow version,
    # the cap and limit they run under, and `state` (running, finished, cancelled).
    flow_id: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    flow_version: Mapped[int | None] = mapped_column(Integer, default=None)
    budget_usd: Mapped[float | None] = mapped_column(Float, default=None)
    concurrency: Mapped[int | None] = mapped_column(Integer, default=None)
    estimate_usd: Mapped[float | None] = mapped_column(Float, default=None)
    state: Mapped[str | None] = mapped_column(String(16), index=True, default=None)
    batch_api: Mapped[bool] = mapped_column(Boolean, default=False)  # Gemini Batch API mode
    # The process driving a running batch and until when its claim holds (as for runs).
    lease_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_expires: Mapped[datetime | None] = mapped_column(default=None)


class BatchRow(Base):
    """One input row of a batch and the run that executes it (pending rows have none yet)."""

    __tablename__ = "batch_rows"
    batch_id: Mapped[str] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    given: Mapped[dict[str, Any]]  # the row as read from the file
    inputs: Mapped[dict[str, Any]]  # the checked run inputs, JSON-ready
    status: Mapped[str] = mapped_column(String(16), index=True)
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id", ondelete="SET NULL"))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    outputs: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BatchJob(Base):
    """A Gemini Batch API job submitted for a batch's rows (`plait batch --batch-api`).

    `requests` lists, in order, the key of each inlined request (row, attempt and request
    digest), so that a resumed batch polls this job instead of submitting and paying again.
    """

    __tablename__ = "batch_jobs"
    name: Mapped[str] = mapped_column(String(128), primary_key=True)  # Gemini's "batches/…"
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    requests: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CallbackDelivery(Base):
    """A trigger caller's `callback_url`, to be called once its run settles: the outbox.

    Recorded before the trigger call is answered; delivered by whichever process is alive
    (claimed per row with a conditional UPDATE, `claim_owner` until `claim_expires`),
    retried with backoff (`next_attempt_at`). `secret` is the trigger secret the body is
    signed with, encrypted under the master key (plait.crypto.vault)."""

    __tablename__ = "callback_outbox"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)  # pending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claim_owner: Mapped[str | None] = mapped_column(String(64), default=None)
    claim_expires: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(default=None)
