"""The job queue on Redis (SAQ), for many processes on many machines (`PLAIT_REDIS_URL`).

A job carries only its run id; its SAQ key is the run id too, so a run queued twice
while its first job is still waiting or running is queued once. Any process may
`enqueue`; only a process that called `start` consumes jobs, at most `concurrency` at a
time: a process that only enqueues (`plait serve --no-worker`) never calls `start`.

When a worker dies (`kill -9`, a lost machine) its jobs stay in SAQ as taken. Two things
bring its runs back: the lease reaper of any live process (`plait.engine.reaper`), once a
run's lease expired, `requeue`s it, which replaces the dead worker's job under the run id
by a new one (a job still waiting keeps its place: a run is never queued twice); and
SAQ's own sweep, which every live worker runs (each `sweep_seconds`, one at a time across
processes), puts a job whose heartbeat stopped `heartbeat_seconds` ago back on the queue,
up to `attempts` times in all. A job stopped by `close` goes back on the queue at once.
Redis keeps nothing that cannot be rebuilt: the runs' rows are the truth.

SAQ's sweep can take a job that a live worker has only just dequeued for a dead one (it
sees the job taken but not yet marked active), and SAQ's worker would then cancel that
job's task: a live run stopped mid-call, to be paid again. Plait never aborts a SAQ job
(a run is cancelled through its signals), so that check is off here: such a job goes on,
and the copy the sweep puts back is delivered to a worker that does not win the run's
lease, and does nothing (`plait.engine.worker`).

A handler that raises is logged and its job is finished, not retried: a run records its
own failures, and repeating a job could pay for its calls again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from saq import Job, Worker
from saq.job import Status
from saq.queue.redis import RedisQueue
from saq.utils import now

from plait.engine.queue import Handler, handled
from plait.errors import ServiceUnavailable

log = logging.getLogger(__name__)

_FUNCTION = "plait.run"
_DEQUEUE_SECONDS = 5  # each waiting slot asks Redis again this often (a blocking pop)
_NEVER = 10**9  # seconds: an upkeep timer that never fires again after its first pass

# Atomically: a job waiting in the queued list is left there (0); any other job under
# the key (taken by a worker that is gone, half swept, or none at all) is replaced by the
# new one, queued last (1). The keys are SAQ's own Redis layout (saq.queue.redis).
_REPLACE_STALE = """
if redis.call('LPOS', KEYS[3], KEYS[2]) then return 0 end
redis.call('LREM', KEYS[4], 0, KEYS[2])
redis.call('DEL', KEYS[5])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], 0, KEYS[2])
redis.call('RPUSH', KEYS[3], KEYS[2])
return 1
"""


class QueueUnavailable(ServiceUnavailable):
    service = "the job queue"


class SaqQueue:
    delivers_here = False

    def __init__(
        self,
        redis_url: str,
        concurrency: int = 32,
        *,
        name: str = "plait-runs",
        heartbeat_seconds: int = 30,
        sweep_seconds: int = 10,
        attempts: int = 3,
    ):
        client: Redis = Redis.from_url(
            redis_url,
            socket_connect_timeout=5,
            socket_timeout=_DEQUEUE_SECONDS + 25,  # longer than a blocking pop waits
            health_check_interval=30,
        )
        self._queue = _PatientRedisQueue(client, name=name)
        self._replace_stale = client.register_script(_REPLACE_STALE)
        self._concurrency = concurrency
        self._heartbeat = heartbeat_seconds
        self._sweep = sweep_seconds
        self._attempts = attempts
        self._connected = False
        self._worker: Worker[Any] | None = None
        self._working: asyncio.Task[None] | None = None

    async def start(self, handler: Handler) -> None:
        """Consume jobs from now on (optional: a process that only enqueues never calls it)."""
        if self._worker is not None:
            raise RuntimeError("the queue has already been started")
        await self._connect()
        worker: Worker[Any] = Worker(
            self._queue,
            [(_FUNCTION, self._job(handler))],
            concurrency=self._concurrency,
            dequeue_timeout=_DEQUEUE_SECONDS,
            # "abort": never (see the module's doc: Plait does not abort SAQ jobs)
            timers={"sweep": self._sweep, "schedule": 1, "abort": _NEVER, "worker_info": 10},
        )
        worker.SIGNALS = []  # the server's own signal handling stops it, through `close`
        self._worker = worker
        self._working = asyncio.get_running_loop().create_task(worker.start())

    async def enqueue(self, run_id: str) -> None:
        """Queue the run (once: a run already waiting or running here is not queued again);
        `QueueUnavailable` when Redis cannot be reached (the run's row stays queued)."""
        await self._connect()
        try:
            await self._queue.enqueue(self._new_job(run_id))
        except RedisError as exc:
            raise _unavailable(run_id, exc) from exc

    async def requeue(self, run_id: str) -> bool:
        """Queue again a run whose lease expired: a job for it still waiting keeps its
        place (False); a stale one (its worker is gone) is replaced (True)."""
        await self._connect()
        queue, job = self._queue, self._new_job(run_id)
        job.queue, job.queued, job.status = queue, now(), Status.QUEUED
        keys = [queue.namespace("incomplete"), job.id, queue.namespace("queued")]
        keys += [queue.namespace("active"), job.abort_id]
        try:
            replaced = await self._replace_stale(keys=keys, args=[queue.serialize(job)])
        except RedisError as exc:
            raise _unavailable(run_id, exc) from exc
        return bool(replaced)

    def _new_job(self, run_id: str) -> Job:
        return Job(
            _FUNCTION,
            kwargs={"run_id": run_id},
            key=run_id,
            timeout=0,  # a run may take long: heartbeats tell a live one from a dead one
            heartbeat=self._heartbeat,
            retries=self._attempts,
            ttl=-1,  # a finished job is deleted: the run's row keeps its outcome
        )

    async def close(self) -> None:
        """Stop consuming; jobs running here go back on the queue for the next worker."""
        if self._worker is not None:
            await self._worker.stop()
        if self._working is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._working
        if self._connected:
            await self._queue.disconnect()
            self._connected = False

    async def _connect(self) -> None:
        if not self._connected:
            await self._queue.connect()
            self._connected = True

    def _job(self, handler: Handler) -> Any:
        beat_every = max(self._heartbeat / 3, 0.5)

        async def run(ctx: dict[str, Any], *, run_id: str) -> None:
            beating = asyncio.get_running_loop().create_task(_heartbeat(ctx["job"], beat_every))
            try:
                await handled(handler, run_id)
            finally:
                beating.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beating

        return run


def _unavailable(run_id: str, exc: RedisError) -> QueueUnavailable:
    return QueueUnavailable(
        f"could not queue run {run_id} in Redis ({type(exc).__name__}: {exc}); "
        "check PLAIT_REDIS_URL and that Redis is up"
    )


class _PatientRedisQueue(RedisQueue):
    """SAQ's queue, whose waiting slots pause when Redis cannot be reached (SAQ's would
    ask again at once, in a busy loop) and say so once, not once per slot and second."""

    _unreachable = False

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Any:  # noqa: ASYNC109 (SAQ's signature)
        try:
            job = await super().dequeue(timeout, poll_interval)
        except RedisError as exc:
            if not self._unreachable:
                log.error("the job queue cannot reach Redis (%s); trying again each second", exc)
            self._unreachable = True
            await asyncio.sleep(1)
            return None
        if self._unreachable:
            log.warning("the job queue reaches Redis again")
            self._unreachable = False
        return job


async def _heartbeat(job: Any, every: float) -> None:
    """Tell the other workers' sweeps this job's worker is alive."""
    while True:
        await asyncio.sleep(every)
        try:
            await job.update()
        except Exception as exc:  # Redis away for a moment: the next beat may get through
            log.warning("could not send the heartbeat of job %s: %s", job.key, exc)


__all__ = ["QueueUnavailable", "SaqQueue"]
