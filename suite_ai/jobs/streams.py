"""The followers of job event streams in one web process, and how they learn of new events.

Each open stream is a ``Follower``: a coroutine waiting on an ``asyncio.Event``. It holds no thread
and no database connection. The ``Hub`` learns that a job has new events from a push (see
``suite_ai.jobs.notify``: Redis pub/sub, or datagrams between the processes of one machine), reads
the new events of every job woken meanwhile in **one** query, and hands each follower the events
after its own cursor. Many followers of one job cost one read.

Every database read of the streams runs on a ``ReadPool``: a few threads shared by the whole
process, each giving its connection back after each read (with Postgres, to the connection pool;
with SQLite, the file is closed). A thousand idle followers hold no connection at all.

Notifications are best effort, so a sweep asks the database, every
``SUITE_AI_SSE_SWEEP_INTERVAL`` seconds and in one query, for the newest event id of every followed
job: an event whose notification was lost (Redis restarting, a web process started a moment ago)
is late, never missing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import socket
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

import redis.asyncio
from django.conf import settings
from django.db import connection

from suite_ai.jobs import datagrams, notify
from suite_ai.jobs.models import JobEvent

logger = logging.getLogger(__name__)

TERMINAL_KINDS = frozenset({JobEvent.Kind.DONE, JobEvent.Kind.FAILED, JobEvent.Kind.CANCELLED})
FETCH_ROWS = 500  # events per read; a long replay takes several
FETCH_JOBS = 200  # jobs per read, so that the statement stays small
SWEEP_JOBS = 100  # jobs per sweep query: short reads, none holding the loop long
READY_TIMEOUT = 2.0  # waiting longer for Redis to confirm a subscription: the sweep takes over
# After a read, the next one waits this long for more notifications: under load, a job's events
# come in bursts (its claim and its stream opening) and many jobs' events are read by one query.
# A notification after a quiet spell is read at once: it is on the path of a first character.
BATCH_WINDOW = 0.01

T = TypeVar("T")
Row = tuple[int, str, str, str]  # event id, job id, kind, data as JSON text


# --- Database reads, on a few shared threads --------------------------------------------------------


class ReadPool:
    """The threads every database read of the streams runs on. A thread gives its connection back
    after each read: a stream waiting for its next event holds none."""

    def __init__(self, threads: int) -> None:
        self.executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sse-db")

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, _released, function, args)

    async def read(self, function: Callable[..., T], *args: Any) -> T:
        """``run`` for a function that only reads: its answer is handed over before the thread
        gives its connection back, because closing the last connection to SQLite checkpoints the
        write-ahead log (an fsync) and the events of a stream would wait for it."""
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()

        def settle(result: Any, error: BaseException | None) -> None:
            if answer.done():
                return  # the awaiting stream went away
            if error is not None:
                answer.set_exception(error)
            else:
                answer.set_result(result)

        def work() -> None:
            try:
                result, error = function(*args), None
            except BaseException as raised:
                result, error = None, raised
            try:
                loop.call_soon_threadsafe(settle, result, error)
            except RuntimeError:
                pass  # the loop is closed: nobody waits any more
            finally:
                connection.close()

        def cancelled(submitted: Future[None]) -> None:  # never run: the pool shut down
            if submitted.cancelled():
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(answer.cancel)

        self.executor.submit(work).add_done_callback(cancelled)
        return await answer

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def _released(function: Callable[..., T], args: tuple[Any, ...]) -> T:
    try:
        return function(*args)
    finally:
        connection.close()


def job_key(value: Any) -> str:
    """A job id as the hub keys it (the canonical UUID text), from a URL or a database column
    (SQLite keeps UUIDs as 32 hex digits)."""
    return str(value) if isinstance(value, uuid.UUID) else str(uuid.UUID(str(value)))


@functools.cache
def _events_sql(vendor: str, jobs: int) -> str:
    """Cached per database vendor, whose quoting it uses, and number of jobs."""
    quote = connection.ops.quote_name
    one_job = f"({quote('job_id')} = %s AND {quote('id')} > %s)"
    columns = ", ".join(quote(name) for name in ("id", "job_id", "kind", "data"))
    where = " OR ".join([one_job] * jobs)
    table = quote(JobEvent._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {quote('id')} LIMIT %s"  # noqa: S608 (names)


@functools.cache
def _latest_sql(vendor: str, jobs: int) -> str:
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * jobs)
    table = quote(JobEvent._meta.db_table)
    return (
        f"SELECT {quote('job_id')}, MAX({quote('id')}) FROM {table}"  # noqa: S608 (names from the model)
        f" WHERE {quote('job_id')} IN ({placeholders}) GROUP BY {quote('job_id')}"
    )


def _job_param(job_id: str) -> Any:
    # As UUIDField stores it: native on Postgres, 32 hex digits elsewhere (the field's own
    # conversion costs a good part of a read).
    value = uuid.UUID(job_id)
    return value if connection.features.has_native_uuid_field else value.hex


def read_events(cursors: dict[str, int], limit: int) -> list[Row]:
    """The events of each job after its cursor, in id order, at most ``limit`` of them."""
    params: list[Any] = []
    for job_id, after in cursors.items():
        params += [_job_param(job_id), after]
    params.append(limit)
    with connection.cursor() as cursor:
        cursor.execute(_events_sql(connection.vendor, len(cursors)), params)
        rows = cursor.fetchall()
    # The data column is returned as JSON text (Postgres' jsonb through Django's loader, SQLite's
    # text): it goes out as it is, never decoded.
    return [
        (event_id, job_key(job), kind, data if isinstance(data, str) else json.dumps(data))
        for event_id, job, kind, data in rows
    ]


def latest_event_ids(job_ids: list[str]) -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(_latest_sql(connection.vendor, len(job_ids)), [_job_param(job) for job in job_ids])
        return {job_key(job): int(latest) for job, latest in cursor.fetchall()}


# --- Followers ----------------------------------------------------------------------------------------


def sse_frame(event_id: int, kind: str, data: str) -> bytes:
    if "\n" in data or "\r" in data:  # JSON text never has one, but a data line must not break
        lines = "".join(f"data: {line}\n" for line in data.splitlines())
    else:
        lines = f"data: {data}\n"
    return f"id: {event_id}\nevent: {kind}\n{lines}\n".encode()


class StreamEvent:
    """One event as the streams send it, encoded once for all of its followers."""

    __slots__ = ("data", "frame", "id", "kind", "terminal")

    def __init__(self, event_id: int, kind: str, data: str) -> None:
        self.id = event_id
        self.kind = kind
        self.data = data
        self.terminal = kind in TERMINAL_KINDS
        self.frame = sse_frame(event_id, kind, data)


class Follower:
    """One open stream: the events handed to it and not yet sent, and its cursor."""

    __slots__ = ("gone", "job_id", "last_id", "pending", "wake")

    def __init__(self, job_id: str, last_id: int) -> None:
        self.job_id = job_id
        self.last_id = last_id  # the last event handed to it (sent or pending)
        self.pending: list[StreamEvent] = []
        self.wake = asyncio.Event()
        self.gone = False  # the client left

    def take(self) -> list[StreamEvent]:
        events, self.pending = self.pending, []
        self.wake.clear()
        return events

    def leave(self) -> None:
        self.gone = True
        self.wake.set()


# --- Notification listeners -------------------------------------------------------------------------


class Listener(Protocol):
    def start(self, hub: Hub) -> None: ...

    def watch(self, job_id: str) -> None:
        """The first follower of this job in the process arrived."""

    def unwatch(self, job_id: str) -> None:
        """Its last follower left."""

    async def ready(self, job_id: str) -> None:
        """Returns once a notification about this job would reach the hub."""

    async def close(self) -> None: ...


class LocalListener:
    """Datagrams from the processes of this machine (no Redis): one socket per web process."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path: Path | None = None
        self.sock: socket.socket | None = None
        self.hub: Hub | None = None

    def start(self, hub: Hub) -> None:
        self.hub = hub
        try:
            sock, self.path = datagrams.bind(self.directory)
        except OSError as error:  # e.g. a data directory whose path is too long for a socket
            logger.warning("event notifications off (%s); streams rely on the sweep", error)
            return
        sock.setblocking(False)
        asyncio.get_running_loop().add_reader(sock.fileno(), self._readable)
        self.sock = sock

    def _readable(self) -> None:
        assert self.sock is not None and self.hub is not None
        while True:
            try:
                data = self.sock.recv(64)
            except (BlockingIOError, InterruptedError):
                return
            try:
                self.hub.wake(job_key(data.decode("ascii")))
            except ValueError:
                continue  # not a job id: nothing of ours

    def watch(self, job_id: str) -> None:
        return None  # every datagram reaches every web process; the hub keeps those it follows

    def unwatch(self, job_id: str) -> None:
        return None

    async def ready(self, job_id: str) -> None:
        return None  # bound before the first follower

    async def close(self) -> None:
        if self.sock is not None:
            asyncio.get_running_loop().remove_reader(self.sock.fileno())
            self.sock.close()
            self.sock = None
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class RedisListener:
    """Redis pub/sub, on one connection per web process, subscribed to the channels of the jobs it
    has followers for. Subscriptions change in one task, in order, so that an UNSUBSCRIBE and a
    new SUBSCRIBE of the same channel reach Redis in the order they were decided; a follower waits
    for Redis to confirm its job's subscription before the hub reads its events, so that nothing
    written after that read can go unnoticed."""

    BASE = f"{notify.CHANNEL_PREFIX}hub"  # always subscribed: keeps the connection listening

    def __init__(self, url: str) -> None:
        self.client = redis.asyncio.Redis.from_url(url, socket_connect_timeout=2, health_check_interval=30)
        self.pubsub = self.client.pubsub()
        self.hub: Hub | None = None
        self._wanted: set[str] = set()
        self._sent: set[str] = set()
        self._confirmed: set[str] = set()
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._changed = asyncio.Event()
        self._connected = asyncio.Event()
        self._base_confirmed = False
        self._down = False  # Redis did not answer: streams open at once and rely on the sweep
        self._tasks: list[asyncio.Task[None]] = []
        self._warned = False

    def start(self, hub: Hub) -> None:
        self.hub = hub
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._manage())]

    def watch(self, job_id: str) -> None:
        self._wanted.add(notify.channel(job_id))
        self._changed.set()

    def unwatch(self, job_id: str) -> None:
        self._wanted.discard(notify.channel(job_id))
        self._changed.set()

    async def ready(self, job_id: str) -> None:
        name = notify.channel(job_id)
        if name in self._confirmed or self._down:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(name, []).append(future)
        self._changed.set()
        try:
            await asyncio.wait_for(future, READY_TIMEOUT)
        except TimeoutError:
            self._warn("no subscription confirmed in time")
        finally:
            waiters = self._waiters.get(name)
            if waiters and future in waiters:
                waiters.remove(future)

    async def _manage(self) -> None:
        # This task alone sends commands, and the first one before anything reads: PubSub makes its
        # connection on first use, and two tasks using it first would each make one.
        while not self._connected.is_set():
            try:
                await self.pubsub.subscribe(self.BASE)
                self._connected.set()
            except (redis.RedisError, OSError) as error:
                self._warn(type(error).__name__)
                await asyncio.sleep(1.0)
        while True:
            await self._changed.wait()
            self._changed.clear()
            subscribe = self._wanted - self._sent
            unsubscribe = self._sent - self._wanted
            try:
                if unsubscribe:
                    self._sent -= unsubscribe
                    self._confirmed -= unsubscribe
                    await self.pubsub.unsubscribe(*unsubscribe)
                if subscribe:
                    self._sent |= subscribe
                    await self.pubsub.subscribe(*subscribe)
            except (redis.RedisError, OSError) as error:
                self._sent -= subscribe
                self._warn(type(error).__name__)
                await asyncio.sleep(1.0)
                self._changed.set()

    async def _listen(self) -> None:
        await self._connected.wait()
        while True:
            try:
                message = await self.pubsub.get_message(timeout=None)
            except (redis.RedisError, OSError) as error:
                self._warn(type(error).__name__)
                await asyncio.sleep(1.0)
                continue
            if message is not None:
                self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        assert self.hub is not None
        kind = message["type"]
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else str(message["channel"])
        if kind == "message":
            self.hub.wake(name[len(notify.CHANNEL_PREFIX) :])
        elif kind == "subscribe":
            if name == self.BASE:
                if self._base_confirmed:  # subscribed again: the connection was lost, and with it
                    self.hub.wake_all()  # whatever was published meanwhile
                self._base_confirmed = True
                self._down = False
                return
            again = name in self._confirmed
            self._confirmed.add(name)
            for future in self._waiters.pop(name, []):
                if not future.done():
                    future.set_result(None)
            if again:
                self.hub.wake(name[len(notify.CHANNEL_PREFIX) :])
        elif kind == "unsubscribe" and name not in self._sent:
            self._confirmed.discard(name)

    def _warn(self, reason: str) -> None:
        self._down = True
        if not self._warned:  # once: a Redis outage would otherwise log a line a second
            self._warned = True
            logger.warning("event notifications from Redis interrupted (%s); streams rely on the sweep", reason)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.pubsub.aclose()
        await self.client.aclose()


# --- The hub --------------------------------------------------------------------------------------------


class Hub:
    """The followers of one web process. ``pool`` serves the reads of events; ``openings`` the
    checks of bearer credentials when a stream opens, apart, because checking an OIDC token may
    wait on the identity provider, and the events of open streams must not wait behind it."""

    def __init__(self, pool: ReadPool, openings: ReadPool, listener: Listener, sweep_interval: float) -> None:
        self.pool = pool
        self.openings = openings
        self.listener = listener
        self.sweep_interval = sweep_interval
        self.loop = asyncio.get_running_loop()
        self.followers: dict[str, set[Follower]] = {}
        self._dirty: set[str] = set()
        self._dirty_event = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.listener.start(self)
        self._tasks = [asyncio.create_task(self._fetch_loop()), asyncio.create_task(self._sweep_loop())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.listener.close()
        self.pool.close()
        self.openings.close()

    # A stream joins, waits until notifications about its job reach the hub, then reads: the first
    # read after that is its replay, and every event written after it will be notified.
    def join(self, job_id: str, last_id: int) -> Follower:
        follower = Follower(job_id, last_id)
        followers = self.followers.get(job_id)
        if followers is None:
            followers = self.followers[job_id] = set()
            self.listener.watch(job_id)
        followers.add(follower)
        return follower

    async def ready(self, follower: Follower) -> None:
        await self.listener.ready(follower.job_id)
        self.wake(follower.job_id)

    def leave(self, follower: Follower) -> None:
        followers = self.followers.get(follower.job_id)
        if followers is None:
            return
        followers.discard(follower)
        if not followers:
            del self.followers[follower.job_id]
            self.listener.unwatch(follower.job_id)

    def wake(self, job_id: str) -> None:
        if job_id in self.followers:
            self._dirty.add(job_id)
            self._dirty_event.set()

    def wake_all(self) -> None:
        self._dirty.update(self.followers)
        self._dirty_event.set()

    async def _fetch_loop(self) -> None:
        # One read at a time: the notifications that arrive during a read, or within BATCH_WINDOW
        # after it, are served together by the next one, so a busy process makes fewer, larger reads.
        last_read = float("-inf")
        while True:
            await self._dirty_event.wait()
            wait = last_read + BATCH_WINDOW - self.loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty_event.clear()
            while self._dirty:
                cursors: dict[str, int] = {}
                while self._dirty and len(cursors) < FETCH_JOBS:
                    job_id = self._dirty.pop()
                    followers = self.followers.get(job_id)
                    if followers:
                        cursors[job_id] = min(follower.last_id for follower in followers)
                if not cursors:
                    continue
                try:
                    rows = await self.pool.read(read_events, cursors, FETCH_ROWS)
                except Exception as error:
                    logger.warning("reading job events failed (%s); retrying", type(error).__name__)
                    self._dirty.update(cursors)
                    await asyncio.sleep(1.0)
                    continue
                self._deliver(rows)
                if len(rows) >= FETCH_ROWS:  # more than one read's worth: read on
                    self._dirty.update(cursors)
            last_read = self.loop.time()

    def _deliver(self, rows: Iterable[Row]) -> None:
        for event_id, job_id, kind, data in rows:
            event: StreamEvent | None = None
            for follower in self.followers.get(job_id, ()):
                if event_id > follower.last_id:
                    if event is None:
                        event = StreamEvent(event_id, kind, data)
                    follower.pending.append(event)
                    follower.last_id = event_id
                    follower.wake.set()

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_interval)
            jobs = list(self.followers)
            for start in range(0, len(jobs), SWEEP_JOBS):
                try:
                    latest = await self.pool.read(latest_event_ids, jobs[start : start + SWEEP_JOBS])
                except Exception as error:
                    logger.warning("sweeping job events failed (%s)", type(error).__name__)
                    break
                for job_id, event_id in latest.items():
                    followers = self.followers.get(job_id)
                    if followers and event_id > min(follower.last_id for follower in followers):
                        self.wake(job_id)


class _Current:
    hub: Hub | None = None


def listener() -> Listener:
    if settings.REDIS_URL:
        return RedisListener(settings.REDIS_URL)
    return LocalListener(notify.socket_dir())


def hub() -> Hub:
    """This process's hub, started on first use in the running event loop."""
    current = _Current.hub
    if current is None or current.loop is not asyncio.get_running_loop():  # a new loop: tests, a restarted server
        threads = settings.SUITE_AI_SSE_DB_THREADS
        current = Hub(ReadPool(threads), ReadPool(threads), listener(), settings.SUITE_AI_SSE_SWEEP_INTERVAL)
        current.start()
        _Current.hub = current
    return current


async def shutdown() -> None:
    current, _Current.hub = _Current.hub, None
    if current is not None:
        await current.close()
