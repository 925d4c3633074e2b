"""kombu's broker transports with a few fixes, selected in settings for ``redis://`` and the
embedded ``filesystem://`` broker (``CELERY_BROKER_TRANSPORT``). Everything else is kombu's.

Redis: kombu's channel builds a fresh ``redis.Redis`` for every publish, every message it
receives and every ack (``Channel.conn_or_acquire``), and a client's constructor copies all of
redis-py's response callbacks each time. A client only wraps the channel's connection pool and is
thread-safe, so the channel keeps one (rebuilt if the channel replaces its pool).

Filesystem: kombu writes a message file in place, so a worker that lists the folder at that
moment moves away an empty or half-written file, fails to parse it and stops consuming
("Unrecoverable error: JSONDecodeError"). A message is written under a name the reader skips,
then renamed to its final name: a rename within a folder is atomic.

Filesystem, pickup: kombu's consumer lists the folder, and when it finds nothing sleeps the
polling interval (``SUITE_AI_BROKER_POLL_INTERVAL``) before it looks again, so a job waits half
an interval on average before a worker sees it. Each consumer binds a Unix datagram socket in the
``wake_folder`` transport option's folder before its first look, and waits on that socket instead
of sleeping; a writer sends one byte to every socket there once its file is renamed (the
``datagrams`` module, shared with the job event notifications). The files stay the truth: a
datagram lost, refused (a dead worker's socket, removed then) or never sent (a socket path over
108 bytes: one warning, no socket) only means that the consumer finds the message at its next
poll, as kombu's own would.

Redis, after a lost connection: Celery's consumer calls ``Connection.collect()``, which closes
the channels, stops at the first whose close raises a connection error (one waiting on a BRPOP)
and detaches the transport (``transport.client = None``); then ``Connection.close()`` closes the
channel left open, which holds the jobs' messages delivered but not acked. It drops its pool,
then puts those messages back, which builds a new pool from ``transport.client``:
AttributeError ("'NoneType' object has no attribute 'hostname'"), not a connection error, so the
worker stops for good ("Unrecoverable error") instead of reconnecting. The channel keeps the
connection parameters it was built with and uses them once the transport is detached; with no
Redis to talk to, putting the messages back then fails with a connection error, which kombu
ignores while closing, and the consumer reconnects. (The jobs are safe either way: their rows are
the truth and the reconciler re-sends.)

The overrides replace private kombu methods (``Channel._create_client``, ``Channel._connparams``,
``Channel._put``), re-implement one (the virtual transport's ``drain_events`` loop, which has no
hook for its sleep) and rely on private conventions (the pool attribute, the message file names
``_get`` reads, ``Transport.cycle``). They were checked against one kombu release,
``WRITTEN_FOR``; with any other, kombu's own behaviour runs and one warning says so, because a
changed convention could turn our writes into messages no reader takes.
tests/jobs/test_transports.py has a canary per override; after upgrading kombu, re-check them
against its code and move ``WRITTEN_FOR``. Measured effects: docs/performance.md.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import logging
import os
import select
import socket
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
from kombu.utils.json import dumps
from redis import exceptions as redis_errors

from suite_ai.jobs import datagrams

logger = logging.getLogger(__name__)

# The transport option naming the folder where the embedded broker's consumers bind their sockets.
WAKE_FOLDER = "wake_folder"

WRITTEN_FOR = "5.7.0"  # the kombu release whose private methods these overrides were checked against


def kombu_version() -> str | None:
    try:
        return importlib.metadata.version("kombu")
    except importlib.metadata.PackageNotFoundError:
        return None


_warned = threading.Event()


def overrides_apply(version: str | None) -> bool:
    """Whether the overrides may run on this kombu; warns once per process when they may not."""
    if version == WRITTEN_FOR:
        return True
    if not _warned.is_set():
        _warned.set()
        logger.warning(
            "kombu %s is installed, suite_ai's transport overrides were written for %s: running kombu's own "
            "transports (a Redis client per message; embedded broker files readable half-written, and polled). "
            "See suite_ai/jobs/transports.py.",
            version,
            WRITTEN_FOR,
        )
    return False


# Read by every overridden method: the tests switch it to see kombu's own behaviour.
OVERRIDES_ACTIVE = overrides_apply(kombu_version())


class RedisChannel(redis.Channel):
    _sync_client: Any = None
    _last_connparams: dict[bool, dict[str, Any]] | None = None

    def _connparams(self, asynchronous: bool = False) -> Any:
        if not OVERRIDES_ACTIVE:
            return super()._connparams(asynchronous=asynchronous)
        known = self._last_connparams if self._last_connparams is not None else {}
        if self.connection.client is None:
            # Detached by Connection.collect(): what the channel was connected with, if anything.
            if asynchronous in known:
                return dict(known[asynchronous])
            raise redis_errors.ConnectionError("The broker connection is closed.")
        params = super()._connparams(asynchronous=asynchronous)
        self._last_connparams = {**known, asynchronous: dict(params)}
        return params

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous or not OVERRIDES_ACTIVE:
            return super()._create_client(asynchronous=asynchronous)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class RedisTransport(redis.Transport):
    Channel = RedisChannel


class FilesystemChannel(filesystem.Channel):
    # kombu's filesystem channel calls the argument "payload", its base class "message".
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        if not OVERRIDES_ACTIVE:
            super()._put(queue, payload, **kwargs)
            return
        # kombu's name: the reader takes files in name order and matches "<anything>.<queue>.msg".
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.tmp")
        try:
            with open(staging, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(staging, os.path.join(self.data_folder_out, name))
        except OSError as error:
            with contextlib.suppress(OSError):
                os.remove(staging)  # a full disk must not also leave a stray file behind
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from error
        # After the rename: a consumer woken now finds the file.
        folder = self.transport_options.get(WAKE_FOLDER)
        if folder:
            _wake_sender(os.getpid(), folder).send(b"!")


@functools.cache
def _wake_sender(pid: int, folder: str) -> datagrams.Fanout:
    """One per process (after a fork, the child makes its own). It never waits: a consumer whose
    queue of datagrams is full has wake-ups pending already."""
    return datagrams.Fanout(Path(folder), wait=0, backoff=0)


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel

    _wake: socket.socket | None = None
    _wake_path: Path | None = None
    _wake_pid = 0
    _wake_tried = False

    def _wake_socket(self) -> socket.socket | None:
        """The socket this consumer is woken on, bound before its first look at the folder (so a
        message written after that look also sends it a datagram); None: polling only."""
        if not self._wake_tried:
            self._wake_tried = True
            folder = self.client.transport_options.get(WAKE_FOLDER) if self.client is not None else None
            if folder:
                try:
                    self._wake, self._wake_path = datagrams.bind(Path(folder))
                except OSError as error:  # e.g. a data directory whose path is too long for a socket
                    logger.warning(
                        "embedded broker: consumers are not woken (%s); messages are picked up by polling", error
                    )
                else:
                    self._wake.setblocking(False)
                    self._wake_pid = os.getpid()
        return self._wake

    def drain_events(self, connection: Any, timeout: float | None = None, **kwargs: Any) -> None:
        wake = self._wake_socket() if OVERRIDES_ACTIVE else None
        if wake is None or self.cycle is None:
            super().drain_events(connection, timeout=timeout, **kwargs)
            return
        # kombu's loop (virtual.Transport.drain_events), waiting on the wake socket where it sleeps.
        time_start = time.monotonic()
        get = self.cycle.get
        polling_interval = self.polling_interval
        if timeout and polling_interval and polling_interval > timeout:
            polling_interval = timeout
        while True:
            try:
                get(self._deliver, timeout=timeout)
            except Empty:
                if timeout is not None and time.monotonic() - time_start >= timeout:
                    raise TimeoutError() from None  # socket.timeout, as kombu raises
                if polling_interval is not None:
                    _wait(wake, polling_interval)
            else:
                break

    def close_connection(self, connection: Any) -> None:
        try:
            super().close_connection(connection)
        finally:
            if self._wake is not None:
                self._wake.close()
                self._wake = None
                # A forked child closing its copy must not remove its parent's socket.
                if self._wake_path is not None and self._wake_pid == os.getpid():
                    self._wake_path.unlink(missing_ok=True)


def _wait(wake: socket.socket, seconds: float) -> None:
    """Until a datagram arrives or ``seconds`` pass; then empties the socket, so that the datagrams
    of messages the next look takes do not wake the consumer again."""
    try:
        poller = select.poll()  # not select(): a worker's descriptors may go past FD_SETSIZE
        poller.register(wake, select.POLLIN)
        while poller.poll(seconds * 1000):
            wake.recv(16)
            seconds = 0
    except (BlockingIOError, InterruptedError):
        pass
    except (OSError, ValueError):  # closed under us (the connection is closing): sleep as kombu does
        time.sleep(seconds)
