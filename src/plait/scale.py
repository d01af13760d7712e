"""The shared parts a process uses, chosen from the settings (docs/deploy.md).

| setting | unset (one process, zero set-up) | set (many processes) |
|---|---|---|
| `PLAIT_REDIS_URL` | `InProcessQueue`, counters in memory | `SaqQueue`, `limits` on Redis |
| (the same) | `InMemorySignals` | `RedisSignals` (pub/sub) |
| `PLAIT_BLOB_URL` | `LocalBlobStore` under the data dir | `S3BlobStore` |

Without Redis, `plait worker` and `plait serve --no-worker` use `DatabaseQueue` (the runs
table as the queue). Also the readiness checks `/api/health` runs for them (`plait.health`).
"""

from __future__ import annotations

from plait.engine.db_queue import DatabaseQueue
from plait.engine.queue import InProcessQueue, JobQueue
from plait.health import Check, Checks
from plait.media.blobs import BlobStore, LocalBlobStore
from plait.publishing.ratelimit import RateLimiter
from plait.settings import Settings
from plait.signals import InMemorySignals, Signals
from plait.store.db import Database
from plait.store.writer import Writer


def make_queue(
    settings: Settings, db: Database, *, embedded: bool = True, concurrency: int | None = None
) -> JobQueue:
    """The run queue: SAQ on Redis when `PLAIT_REDIS_URL` is set; else in this process
    (`embedded`: `plait serve` with its worker), or, for processes that share the database
    without Redis (`plait worker`, `plait serve --no-worker`), the runs table itself."""
    concurrency = concurrency or settings.run_concurrency
    if settings.redis_url:
        from plait.engine.saq_queue import SaqQueue

        return SaqQueue(settings.redis_url, concurrency)
    if embedded:
        return InProcessQueue(concurrency)
    return DatabaseQueue(db, concurrency, settings.worker_poll_seconds)


def make_signals(settings: Settings) -> Signals:
    """Signals between processes: Redis pub/sub when `PLAIT_REDIS_URL` is set, else this
    process's own."""
    if settings.redis_url:
        from plait.signals.redis import RedisSignals

        return RedisSignals(settings.redis_url)
    return InMemorySignals()


def make_limiter(settings: Settings) -> RateLimiter:
    return RateLimiter(settings.rate_limit_uri)


def make_blobs(settings: Settings, writer: Writer) -> BlobStore:
    """The blob store: the bucket `PLAIT_BLOB_URL` names, else files under the data dir
    (written by `writer`, in order with the journal's commits)."""
    where = settings.blob_location
    if where is not None:
        from plait.media.s3_blobs import S3BlobStore  # boto3 loads only when it is used

        return S3BlobStore(where)
    return LocalBlobStore(settings.blob_dir, writer=writer)


def health_checks(settings: Settings, db: Database, blobs: BlobStore) -> Checks:
    """The database, Redis (when configured) and the blob store, by name."""
    checks = Checks()
    checks.add("database", db.ping)
    if settings.redis_url:
        checks.add("redis", _redis_ping(settings.redis_url))
    checks.add("blobs", blobs.check)
    return checks


def _redis_ping(url: str) -> Check:
    from redis.asyncio import Redis  # loads only when Redis is configured

    async def ping() -> None:
        client: Redis = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        try:
            await client.ping()
        finally:
            await client.aclose()

    return ping
