"""Configuration from the environment (and a `.env` file), as DESIGN §1 lists it."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from plait.errors import PlaitError

Backend = Literal["gemini", "preview"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".plait"), validation_alias="PLAIT_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="PLAIT_DATABASE_URL")
    base_url: str = Field(default="http://127.0.0.1:8000", validation_alias="PLAIT_BASE_URL")
    secret_key_value: SecretStr | None = Field(default=None, validation_alias="PLAIT_SECRET_KEY")
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("GEMINI_API_KEY", "GOOGLE_API_KEY")
    )
    gemini_base_url: str | None = Field(default=None, validation_alias="PLAIT_GEMINI_BASE_URL")
    # each attempt of an Image call may be billed: 429/5xx/time-outs are tried this often
    gemini_attempts: int = Field(default=4, ge=1, le=10, validation_alias="PLAIT_GEMINI_ATTEMPTS")
    # seconds each attempt of a Gemini call may take before it is abandoned (and retried)
    gemini_timeout: float = Field(
        default=120.0, gt=0, le=3600, validation_alias="PLAIT_GEMINI_TIMEOUT"
    )
    model_catalog: Path | None = Field(default=None, validation_alias="PLAIT_MODEL_CATALOG")
    image_backend_choice: Backend | None = Field(
        default=None, validation_alias="PLAIT_IMAGE_BACKEND"
    )
    admin_email: str | None = Field(default=None, validation_alias="PLAIT_ADMIN_EMAIL")
    admin_password: SecretStr | None = Field(default=None, validation_alias="PLAIT_ADMIN_PASSWORD")
    trigger_wait_seconds: float = Field(default=60, gt=0, validation_alias="PLAIT_TRIGGER_WAIT")
    mcp_max_image_bytes: int = Field(
        default=1024 * 1024, gt=0, validation_alias="PLAIT_MCP_MAX_IMAGE_BYTES"
    )  # larger images reach MCP clients as links to the signed URL
    link_ttl_seconds: int = Field(default=7 * 86400, gt=0, validation_alias="PLAIT_LINK_TTL")
    rate_limit_per_minute: int = Field(default=60, gt=0, validation_alias="PLAIT_RATE_LIMIT")
    # None: Redis when PLAIT_REDIS_URL is set, else this process's memory
    rate_limit_storage: str | None = Field(
        default=None, validation_alias="PLAIT_RATE_LIMIT_STORAGE"
    )
    # set: the job queue, the rate-limit counters and signals live in this Redis (docs/deploy.md)
    redis_url: str | None = Field(default=None, validation_alias="PLAIT_REDIS_URL")
    # s3://bucket/prefix: blobs in an S3-compatible store, reached with the standard AWS_*
    # variables (read by boto3 itself); unset: files under the data dir
    blob_url: str | None = Field(default=None, validation_alias="PLAIT_BLOB_URL")
    run_concurrency: int = Field(default=32, gt=0, validation_alias="PLAIT_RUN_CONCURRENCY")
    # connections each process keeps open to a PostgreSQL database (docs/deploy.md); unset:
    # as many as the runs it executes at once (`PLAIT_RUN_CONCURRENCY`, `plait worker
    # --concurrency`); the overflow is opened for a burst and closed after each use
    database_pool_size: int | None = Field(
        default=None, gt=0, validation_alias="PLAIT_DATABASE_POOL_SIZE"
    )
    database_pool_overflow: int = Field(
        default=10, ge=0, validation_alias="PLAIT_DATABASE_POOL_OVERFLOW"
    )
    # scale-out (plait.engine.leases, .reaper, .db_queue): how long a process's claim on a
    # run or batch holds without a heartbeat; how long a never-claimed queued run may wait
    # before the reaper queues it again; how often workers look for work and due callbacks
    lease_seconds: float = Field(default=30.0, ge=1, validation_alias="PLAIT_LEASE_SECONDS")
    queued_grace_seconds: float = Field(default=120.0, gt=0, validation_alias="PLAIT_QUEUED_GRACE")
    worker_poll_seconds: float = Field(default=1.0, gt=0, validation_alias="PLAIT_WORKER_POLL")
    max_upload_bytes: int = Field(
        default=20 * 1024 * 1024, gt=0, validation_alias="PLAIT_MAX_UPLOAD_BYTES"
    )
    # decoded pixels in flight across all image work (plait.media.work)
    image_memory_mb: int = Field(default=512, ge=64, validation_alias="PLAIT_IMAGE_MEMORY_MB")
    session_days: int = Field(default=14, gt=0, validation_alias="PLAIT_SESSION_DAYS")
    net_allow: str = Field(default="", validation_alias="PLAIT_NET_ALLOW")
    batch_poll_timeout: float = Field(
        default=3600, gt=0, validation_alias="PLAIT_BATCH_POLL_TIMEOUT"
    )  # seconds a Batch API job may go unreported before its rows fail

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value:
            check_redis_url(value)
        return value or None

    @field_validator("blob_url")
    @classmethod
    def _check_blob_url(cls, value: str | None) -> str | None:
        if value:
            S3Location.parse(value)
        return value or None

    @property
    def rate_limit_uri(self) -> str:
        """Where rate-limit counters live: the chosen storage, else Redis, else memory."""
        return self.rate_limit_storage or self.redis_url or "memory://"

    def database_pool(self, concurrency: int | None = None) -> PoolSize:
        """The connection pool of a process executing up to `concurrency` runs at once
        (default `PLAIT_RUN_CONCURRENCY`), unless `PLAIT_DATABASE_POOL_SIZE` sets it."""
        size = self.database_pool_size or concurrency or self.run_concurrency
        return PoolSize(size, self.database_pool_overflow)

    @property
    def blob_location(self) -> S3Location | None:
        return S3Location.parse(self.blob_url) if self.blob_url else None

    @property
    def image_backend(self) -> Backend:
        """`gemini` when chosen or when a key is set, else the offline `preview`."""
        if self.image_backend_choice is not None:
            return self.image_backend_choice
        return "gemini" if self.gemini_api_key else "preview"

    @property
    def public_origin(self) -> str:
        return self.base_url.rstrip("/")

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'plait.db').resolve()}"

    @property
    def local_database(self) -> bool:
        """The database is the SQLite file in the data dir (the zero-set-up default)."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    @cached_property
    def secret_key(self) -> str:
        """The master key: from the environment, or generated once into the data dir
        (local SQLite only: processes sharing another database must share the key)."""
        if self.secret_key_value is not None:
            return self.secret_key_value.get_secret_value()
        if not self.local_database:
            raise SecretKeyMissing(
                "PLAIT_SECRET_KEY is required when PLAIT_DATABASE_URL is not a local SQLite "
                "file: every process sharing the database must sign and encrypt with the "
                "same key. Make one with `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'` and set it in every process's environment"
            )
        return _read_or_create_key(self.data_dir / "secret.key")


@dataclass(frozen=True)
class PoolSize:
    """Connections a process keeps to a database server (`size`), and how many more it may
    open for a burst (`overflow`, each closed when it is given back)."""

    size: int
    overflow: int


_REDIS_SCHEMES = ("redis", "rediss", "unix")


def check_redis_url(url: str) -> None:
    """Refuse what is not a Redis URL, saying what is expected (a ValueError that
    pydantic reports under the variable's name)."""
    expected = "expected redis://[user:password@]host[:port][/db], rediss://… or unix://path"
    parts = urlsplit(url)
    if parts.scheme not in _REDIS_SCHEMES:
        raise ValueError(f"must start with redis://, rediss:// or unix://; {expected}")
    try:
        parts.port  # noqa: B018 (parsing it checks it)
    except ValueError:
        raise ValueError(f"has a port that is not a number; {expected}") from None
    if parts.scheme != "unix" and not parts.hostname:
        raise ValueError(f"names no host; {expected}")
    database = parts.path.strip("/")
    if parts.scheme != "unix" and database and not database.isdigit():
        raise ValueError(f"the database '{database}' is not a number; {expected}")


# S3's rules for bucket names: 3-63 lower-case letters, digits, dots and hyphens
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class S3Location:
    """`s3://bucket/prefix`: where blobs live in an S3-compatible store."""

    bucket: str
    prefix: str  # no leading or trailing "/"; may be empty

    @classmethod
    def parse(cls, url: str) -> S3Location:
        expected = "expected s3://bucket or s3://bucket/prefix"
        parts = urlsplit(url)
        if parts.scheme != "s3":
            raise ValueError(f"must start with s3://; {expected}")
        if parts.query or parts.fragment or parts.username or parts.port:
            raise ValueError(f"takes no user, port, query or fragment; {expected}")
        bucket = parts.netloc
        if not _BUCKET.match(bucket):
            raise ValueError(
                f"the bucket '{bucket}' is not a valid S3 bucket name "
                "(3-63 lower-case letters, digits, dots and hyphens)"
            )
        prefix = parts.path.strip("/")
        if any(part in ("", ".", "..") for part in prefix.split("/")) and prefix:
            raise ValueError(f"the prefix '{prefix}' has an empty, . or .. part")
        return cls(bucket, prefix)

    def key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


class SecretKeyMissing(PlaitError):
    """PLAIT_SECRET_KEY is unset where it must be set."""


def _read_or_create_key(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key
