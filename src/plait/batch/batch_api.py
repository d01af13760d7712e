"""`plait batch --batch-api`: rows' Image calls go to Gemini's Batch API (half price, slower).

`JobPool` is the image provider the rows' runs use. Each Image call is queued, keyed by
its row, attempt, node and request digest; the queue is submitted as one batch job per model
(at most `max_requests` requests or `max_bytes` of request data per job; the Batch API
client sends a job inline or as a request file, by its size) as soon as every row still to
run is waiting on it, or when no call has arrived for `quiet_seconds`. Jobs are polled until
they end, and each answer goes back to the call that asked for it; the rest of each row's
flow then runs as in live mode.

Polling is bounded: a job Google cannot report (every poll fails with a temporary error,
after the provider's own retries) for `poll_timeout` seconds is stored as `UNREPORTED` and
fails its rows with an error naming the job and saying to run them again with
`--retry-failed`. The waits between polls use the injected `clock` and `sleep`.

Durability: a job's name and its request keys are stored (`batch_jobs`) as soon as Gemini
accepts it. A resumed batch loads them, so a row's call whose key a stored job holds waits
for that job instead of submitting (and paying) again. A new attempt of a row (a retried
or interrupted row) reuses the answer an earlier attempt's job gave when it succeeded or
has not ended, and submits again only when that answer was an error. A later run asks an
`UNREPORTED` job once more: when Google reports it, its answers are used (a request Google
answered is never paid for twice) or, if it is still running, waited for; when the poll
fails again, the new attempts' calls are made online (live calls at the standard price),
not submitted to another job.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from plait.batch.job_limits import MAX_BYTES, MAX_REQUESTS
from plait.engine.context import CURRENT_NODE
from plait.errors import ProviderError
from plait.providers.base import ImagePart, ImageRequest, ImageResult, TextPart
from plait.store import batch_jobs as store
from plait.store.db import Database

if TYPE_CHECKING:  # the SDK is imported only when Batch API mode is used
    from plait.providers.gemini_batch import GeminiBatchApi, JobStatus

log = logging.getLogger(__name__)

POLL_TIMEOUT = 3600.0  # seconds a job may go unreported (PLAIT_BATCH_POLL_TIMEOUT)
UNREPORTED = "UNREPORTED"  # the stored state of a job Plait stopped polling
_Earlier = Literal["answered", "unreported", "other"]  # an earlier attempt's job, for a call
_ROW: contextvars.ContextVar[tuple[int, int] | None] = contextvars.ContextVar(
    "plait_batch_row", default=None
)


def request_digest(request: ImageRequest) -> str:
    """Equal for equal requests (images by content hash), whichever process builds them."""
    digest = hashlib.sha256()
    head = (request.model, request.aspect_ratio, request.image_size, request.response_modalities)
    digest.update(repr(head).encode())
    for part in request.parts:
        if isinstance(part, TextPart):
            digest.update(b"T" + part.text.encode() + b"\0")
        else:
            digest.update(b"I" + part.media_type.encode() + hashlib.sha256(part.data).digest())
    return digest.hexdigest()[:20]


def _request_size(request: ImageRequest) -> int:
    """About what the request weighs in JSON (images are base64)."""
    return 512 + sum(
        len(p.data) * 4 // 3 if isinstance(p, ImagePart) else len(p.text.encode())
        for p in request.parts
    )


@dataclass
class _Job:
    name: str
    model: str
    state: str
    submitted: float  # epoch seconds
    requests: int
    finished: asyncio.Future[JobStatus]
    unreported_since: float | None = None  # the clock when polls started to fail
    patience: float | None = None  # how long it may go unreported (None: the pool's timeout)


class Unreported(ProviderError):
    """Polls of a job kept failing for longer than its patience."""


@dataclass
class _Queued:
    key: str
    request: ImageRequest
    row: tuple[int, int]
    job: asyncio.Future[_Job]


@dataclass
class _Queue:
    items: list[_Queued] = field(default_factory=list)
    bytes: int = 0


class JobPool:
    """The `ImageProvider` of Batch API mode (see the module docstring)."""

    name = "gemini-batch"

    def __init__(
        self,
        api: GeminiBatchApi,
        db: Database,
        batch_id: str,
        *,
        poll_seconds: float = 30.0,
        quiet_seconds: float = 10.0,
        max_requests: int = MAX_REQUESTS,
        max_bytes: int = MAX_BYTES,
        poll_timeout: float = POLL_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        changed: Callable[[], None] = lambda: None,
    ):
        self._api = api
        self.model_list = api.model_list  # an unlisted model fails before a job is submitted
        self._db = db
        self._batch_id = batch_id
        self._poll_seconds = poll_seconds
        self._quiet_seconds = quiet_seconds
        self._max_requests = max_requests
        self._max_bytes = max_bytes
        self._poll_timeout = poll_timeout
        self._clock = clock
        self._sleep = sleep
        self.changed = changed
        self._jobs: dict[str, _Job] = {}
        self._by_key: dict[str, _Job] = {}
        self._queues: dict[str, _Queue] = {}
        self._calls: Counter[tuple[int, int, str]] = Counter()  # (row, attempt, call)
        self._waiting: Counter[tuple[int, int]] = Counter()
        self._expected = 0
        self._quiet: asyncio.TimerHandle | None = None
        self._poller: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # --- set-up and rows ----------------------------------------------------------------

    async def load(self) -> int:
        """Adopt the jobs this batch submitted before (a resumed batch); how many."""
        async with self._db.new_session() as session:
            stored = await store.jobs_of(session, self._batch_id)
        loop = asyncio.get_running_loop()
        for record in stored:
            job = _Job(
                record.name,
                record.model,
                record.state,
                record.submitted_at.timestamp(),
                len(record.requests),
                loop.create_future(),
            )
            if record.state == UNREPORTED:  # given up on before: one more poll decides
                job.patience = 0.0
            self._adopt(job, [str(r["key"]) for r in record.requests])
        return len(stored)

    def expect(self, rows: int) -> None:
        """`rows` more (or, negative, fewer) rows will run through this pool."""
        self._expected += rows
        self._consider()

    @contextmanager
    def row(self, number: int, attempt: int) -> Iterator[None]:
        """Image calls made inside come from attempt `attempt` of row `number`."""
        token = _ROW.set((number, attempt))
        try:
            yield
        finally:
            _ROW.reset(token)
            self._expected -= 1
            self._consider()

    # --- the provider protocol ----------------------------------------------------------

    async def generate(self, request: ImageRequest) -> ImageResult:
        row = _ROW.get()
        if row is None:
            raise RuntimeError("a Batch API image call made outside a batch row")
        call = f"{CURRENT_NODE.get() or '-'}.{request_digest(request)}"
        nth = self._calls[(*row, call)]  # number_of_images > 1 makes equal calls
        self._calls[(*row, call)] += 1
        self._waiting[row] += 1
        try:
            key, job = await self._job_for(row, f"{call}.{nth}", request)
            if job is None:  # an earlier attempt's job Google still cannot report
                return await self._api.live(request)
            status = await asyncio.shield(job.finished)
        finally:
            self._waiting[row] -= 1
            if not self._waiting[row]:
                del self._waiting[row]
        return self._api.read(status, key, request)

    async def aclose(self) -> None:
        """Stop polling and waiting; the Gemini provider is closed by its owner."""
        if self._quiet is not None:
            self._quiet.cancel()
        pending = [*self._tasks, *([self._poller] if self._poller else [])]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    # --- progress -----------------------------------------------------------------------

    def describe(self) -> str:
        """One line for the progress display: each job's state, and time since it started."""
        if not self._jobs:
            queued = sum(len(q.items) for q in self._queues.values())
            return f"collecting: {queued} request(s)" if queued else "starting"
        states = Counter(job.state for job in self._jobs.values())
        elapsed = time.time() - min(job.submitted for job in self._jobs.values())
        jobs = ", ".join(f"{n} {state}" for state, n in sorted(states.items()))
        requests = sum(job.requests for job in self._jobs.values())
        return f"jobs: {jobs} · {requests} requests · {_clock(elapsed)}"

    # --- which job answers a call -------------------------------------------------------

    async def _job_for(
        self, row: tuple[int, int], call: str, request: ImageRequest
    ) -> tuple[str, _Job | None]:
        """The key and job that answer this call; no job when it is to be made online."""
        number, attempt = row
        key = f"{number}.{attempt}.{call}"
        if key in self._by_key:  # a resumed run: its job was submitted before
            return key, self._by_key[key]
        for earlier in range(attempt - 1, 0, -1):  # an answer an earlier attempt paid for
            old_key = f"{number}.{earlier}.{call}"
            job = self._by_key.get(old_key)
            if job is not None:
                answer = await self._earlier_answer(job, old_key)
                if answer == "answered":
                    return old_key, job
                if answer == "unreported":
                    return old_key, None
                break
        return key, await self._enqueue(key, request, row)

    async def _earlier_answer(self, job: _Job, key: str) -> _Earlier:
        """Whether `job` answered `key` well, could not be reported, or neither."""
        try:
            status = await asyncio.shield(job.finished)
        except Unreported:
            return "unreported"
        except ProviderError:
            return "other"
        return "answered" if status.answered_well(key) else "other"

    async def _enqueue(self, key: str, request: ImageRequest, row: tuple[int, int]) -> _Job:
        queue = self._queues.setdefault(request.model, _Queue())
        item = _Queued(key, request, row, asyncio.get_running_loop().create_future())
        size = _request_size(request)
        if queue.items and queue.bytes + size > self._max_bytes:
            self._submit(request.model)
            queue = self._queues.setdefault(request.model, _Queue())
        queue.items.append(item)
        queue.bytes += size
        if len(queue.items) >= self._max_requests:
            self._submit(request.model)
        self._consider()
        self.changed()
        return await item.job

    def _consider(self) -> None:
        """Submit every queue when each row still to run waits on a call; else wait until
        no call has arrived for `quiet_seconds`."""
        if not any(q.items for q in self._queues.values()):
            return
        if self._all_waiting():
            # calls started in the same step (number_of_images, parallel branches) still
            # join: the check runs after the tasks already scheduled
            asyncio.get_running_loop().call_soon(self._submit_if_all_waiting)
            return
        if self._quiet is not None:
            self._quiet.cancel()
        self._quiet = asyncio.get_running_loop().call_later(self._quiet_seconds, self._submit_all)

    def _all_waiting(self) -> bool:
        return len(self._waiting) >= self._expected

    def _submit_if_all_waiting(self) -> None:
        if self._all_waiting():
            self._submit_all()

    def _submit_all(self) -> None:
        for model in [m for m, q in self._queues.items() if q.items]:
            self._submit(model)

    def _submit(self, model: str) -> None:
        queue = self._queues.pop(model)
        task = asyncio.create_task(self._send(model, queue.items))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, model: str, items: list[_Queued]) -> None:
        name = f"plait batch {self._batch_id[:12]} #{len(self._jobs) + 1}"
        try:
            status = await self._api.submit(model, [(i.key, i.request) for i in items], name)
            requests = [_described(i) for i in items]
            await self._db.journal.write(
                store.add_job(self._batch_id, status.name, model, status.state, requests)
            )
        except Exception as exc:  # every row of the job fails with the reason
            for item in items:
                if not item.job.done():
                    item.job.set_exception(exc)
            return
        loop = asyncio.get_running_loop()
        job = _Job(status.name, model, status.state, time.time(), len(items), loop.create_future())
        self._adopt(job, [i.key for i in items])
        if status.done:
            job.finished.set_result(status)
        for item in items:
            item.job.set_result(job)
        self.changed()

    def _adopt(self, job: _Job, keys: list[str]) -> None:
        self._jobs[job.name] = job
        for key in keys:
            self._by_key[key] = job  # a later job holding a key supersedes an earlier one
        job.finished.add_done_callback(lambda f: f.exception() if not f.cancelled() else None)
        if self._poller is None or self._poller.done():
            self._poller = asyncio.create_task(self._poll())

    # --- polling ------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Poll every job that has not ended, at once and then every `poll_seconds`."""
        while unfinished := [j for j in self._jobs.values() if not j.finished.done()]:
            for job in unfinished:
                await self._poll_one(job)
            self.changed()
            if any(not j.finished.done() for j in self._jobs.values()):
                await self._sleep(self._poll_seconds)

    async def _poll_one(self, job: _Job) -> None:
        try:
            status = await self._api.status(job.model, job.name)
            if status.state != job.state:
                job.state = status.state
                await self._db.journal.write(store.set_state(job.name, status.state))
        except ProviderError as exc:
            if exc.retryable:  # Gemini is unreachable: ask again next round, for a while
                await self._unreported(job, exc)
                return
            job.finished.set_exception(exc)
            return
        except Exception as exc:  # the job's rows fail with the reason
            log.exception("polling batch job %s failed", job.name)
            job.finished.set_exception(exc)
            return
        job.unreported_since = job.patience = None  # reported: the full timeout again
        if status.done:
            job.finished.set_result(status)

    async def _unreported(self, job: _Job, exc: ProviderError) -> None:
        """A poll of `job` failed for a temporary reason; after `poll_timeout` seconds of
        such failures (or at once, for a job given up on before) the job is stored as
        `UNREPORTED` and its rows fail with an error saying what to do."""
        now = self._clock()
        if job.unreported_since is None:
            job.unreported_since = now
        waited = now - job.unreported_since
        if waited < (self._poll_timeout if job.patience is None else job.patience):
            log.warning("polling batch job %s failed: %s", job.name, exc)
            return
        log.error("giving up polling batch job %s after %s: %s", job.name, _clock(waited), exc)
        job.state = UNREPORTED
        message = self._unreported_message(job, waited, exc)
        job.finished.set_exception(Unreported(message, retryable=True))
        try:
            await self._db.journal.write(store.set_state(job.name, UNREPORTED))
        except Exception:  # the rows still fail with the reason; a later run polls again
            log.exception("storing the state of batch job %s failed", job.name)

    def _unreported_message(self, job: _Job, waited: float, exc: ProviderError) -> str:
        how_long = "when asked again" if job.patience == 0 else f"for {_clock(waited)}"
        return (
            f"Gemini could not report batch job {job.name} ({job.requests} request(s) to "
            f"{job.model}) {how_long}: every poll failed, the last with: "
            f"{str(exc).rstrip('.')}. The job may still finish at Google. Run the failed rows "
            f"later with plait batch --retry-failed {self._batch_id}: it asks for the job "
            "again and uses its answers (not paid for twice); if Google still cannot report "
            "it, the rows are run online (live calls, at the standard price). "
            f"PLAIT_BATCH_POLL_TIMEOUT sets how long to wait (now {self._poll_timeout:g} s)."
        )


def _described(item: _Queued) -> dict[str, object]:
    """What is stored for each inlined request: its key, and the row, attempt and node."""
    number, attempt = item.row
    return {"key": item.key, "row": number, "attempt": attempt, "node": item.key.split(".")[2]}


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
