"""Signals through Redis pub/sub: every process connected to one Redis hears the others.

One connection per process carries all its subscriptions: a channel is subscribed at
Redis when its first local listener joins (the join returns once Redis confirms, so a
message published after it is heard) and unsubscribed when its last one leaves; a
reader task hands each message to the local listeners. Publishing goes through an
ordinary connection pool. Channels are named `plait:<db>:<channel>`, as Redis pub/sub
ignores database numbers and deployments sharing one Redis must not hear each other.

Redis being unreachable does not fail the caller: a publish is logged and dropped, and
the reader reconnects (redis-py subscribes its channels again) — what was said in
between is lost, as signals are news that the database backs (see `plait.signals.base`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from plait.signals.base import Callback, Hub, Message, SignalsUnavailable, Subscribing

log = logging.getLogger(__name__)

_JSON, _BYTES = b"j", b"b"  # the first byte of a message on the wire says which it is
_CONFIRM_SECONDS = 10.0
_RECONNECT_SECONDS = 0.5


def encode(message: Message) -> bytes:
    if isinstance(message, bytes):
        return _BYTES + message
    return _JSON + json.dumps(message, separators=(",", ":"), default=str).encode()


def decode(data: bytes) -> Message:
    if data[:1] == _BYTES:
        return data[1:]
    decoded: dict[str, Any] = json.loads(data[1:])
    return decoded


class RedisSignals(Subscribing):
    shared = True

    def __init__(self, url: str):
        self._redis: Redis = Redis.from_url(url)
        self._pubsub: PubSub = self._redis.pubsub()
        self._prefix = f"plait:{self._redis.connection_pool.connection_kwargs.get('db', 0)}:"
        self._hub = Hub()
        self._lock = asyncio.Lock()  # one (un)subscription at a time keeps counts exact
        self._confirming: dict[str, deque[asyncio.Future[None]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: Message) -> None:
        try:
            await self._redis.publish(self._prefix + channel, encode(message))
        except RedisError as exc:
            log.warning("could not publish on signal channel %r: %s", channel, exc)

    @asynccontextmanager
    async def listen(self, channel: str, callback: Callback) -> AsyncIterator[None]:
        async with self._lock:
            if self._hub.add(channel, callback):
                try:
                    await self._subscribe(self._prefix + channel)
                except (RedisError, TimeoutError) as exc:
                    self._hub.remove(channel, callback)
                    raise SignalsUnavailable(
                        f"cannot listen to signal channel {channel!r} on Redis "
                        f"(PLAIT_REDIS_URL): {exc or 'no confirmation'}"
                    ) from exc
                except BaseException:
                    self._hub.remove(channel, callback)
                    raise
        try:
            yield
        finally:
            async with self._lock:
                if self._hub.remove(channel, callback):
                    with contextlib.suppress(RedisError):
                        await self._pubsub.unsubscribe(self._prefix + channel)

    async def _subscribe(self, name: str) -> None:
        confirmed = asyncio.get_running_loop().create_future()
        self._confirming.setdefault(name, deque()).append(confirmed)
        try:
            await self._pubsub.subscribe(name)
            if self._reader is None:  # the connection exists once something is subscribed
                self._reader = asyncio.create_task(self._read(), name="redis-signals")
            async with asyncio.timeout(_CONFIRM_SECONDS):
                await confirmed
        finally:
            waiting = self._confirming.get(name)
            if waiting is not None and confirmed in waiting:
                waiting.remove(confirmed)
            if not waiting:
                self._confirming.pop(name, None)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except Exception as exc:  # the connection dropped: redis-py subscribes again
                log.warning("signals: Redis connection lost (%s); reconnecting", exc)
                await asyncio.sleep(_RECONNECT_SECONDS)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        if not isinstance(message.get("channel"), bytes):
            return
        name = message["channel"].decode()
        if message["type"] == "subscribe":
            waiting = self._confirming.get(name)
            if waiting:
                future = waiting.popleft()
                if not future.done():
                    future.set_result(None)
        elif message["type"] == "message" and name.startswith(self._prefix):
            try:
                decoded = decode(message["data"])
            except ValueError:
                log.warning("signals: an unreadable message on %r was dropped", name)
                return
            self._hub.dispatch(name.removeprefix(self._prefix), decoded)

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._pubsub.aclose()
        await self._redis.aclose()
