"""Tell the web processes that a job has a new event, so its followers read it at once.

A notification carries the job id only: the event itself stays in the database, which remains
the one source of truth (ids, order, replay after Last-Event-ID). It is sent once the event is
committed (at once outside a transaction), never before, or a follower would read too early
and miss it. It is best effort: if one is lost (Redis restarting, a web process that started a
moment ago), the web process's periodic sweep finds the event anyway (``suite_ai.jobs.streams``).

Two transports, chosen like the rest of the service by the environment:

- ``REDIS_URL`` set: a PUBLISH on the job's own channel. Every web process, on any machine,
  subscribes to the channels of the jobs it has followers for, and only to those.
- otherwise (the embedded default): a datagram to every web process of this machine, on the Unix
  sockets they bind in ``SUITE_AI_DATA_DIR/streams/``. No server to run, and the database is not
  polled: an idle follower costs nothing.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
import uuid
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings
from django.db import transaction

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "suite_ai:job-events:"
SOCKET_SUFFIX = ".sock"


def channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


def socket_dir() -> Path:
    return Path(settings.DATA_DIR) / "streams"


class Publisher(Protocol):
    def publish(self, job_id: str) -> None: ...


class RedisPublisher:
    def __init__(self, url: str) -> None:
        # A blocking pool: the worker's hundreds of threads share a few connections instead of
        # opening one each; a PUBLISH holds its connection for one round trip.
        pool = redis.BlockingConnectionPool.from_url(
            url, max_connections=16, timeout=2, socket_timeout=2, socket_connect_timeout=2
        )
        self.client = redis.Redis(connection_pool=pool)

    def publish(self, job_id: str) -> None:
        self.client.publish(channel(job_id), b"")


class LocalPublisher:
    """Datagrams to the web processes of this machine. A datagram arrives whole or not at all,
    and no connection has to be kept or re-made when a web process restarts."""

    RESCAN_EVERY = 1.0  # also re-list when the directory changes; this catches what its mtime misses
    BACKOFF = 1.0  # a web process whose socket stayed full is skipped this long

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        # A full receive queue (the web process busy) makes the sender wait, briefly: Linux queues
        # few datagrams per socket, and dropping would leave the event to the sweep.
        self.sock.settimeout(0.05)
        self._lock = threading.Lock()
        self._targets: list[str] = []
        self._listed_at = 0.0
        self._mtime = -1
        self._skip_until: dict[str, float] = {}

    def _refresh(self, now: float) -> list[str]:
        try:
            mtime = self.directory.stat().st_mtime_ns
        except FileNotFoundError:
            return []
        if mtime != self._mtime or now - self._listed_at > self.RESCAN_EVERY:
            with self._lock:
                self._targets = [str(path) for path in self.directory.glob(f"*{SOCKET_SUFFIX}")]
                self._mtime, self._listed_at = mtime, now
        return self._targets

    def publish(self, job_id: str) -> None:
        now = time.monotonic()
        payload = job_id.encode("ascii")
        for target in self._refresh(now):
            if self._skip_until.get(target, 0.0) > now:
                continue
            try:
                self.sock.sendto(payload, target)
            except (TimeoutError, BlockingIOError):
                self._skip_until[target] = now + self.BACKOFF
            except ConnectionRefusedError:
                # Nobody reads this socket any more: a web process that died without cleaning up.
                Path(target).unlink(missing_ok=True)
            except OSError:
                pass  # gone between the listing and the send


@functools.cache
def _publisher(pid: int, redis_url: str | None, directory: Path) -> Publisher:
    """One publisher per process (after a fork, the child makes its own) and configuration."""
    if redis_url:
        return RedisPublisher(redis_url)
    return LocalPublisher(directory)


def publisher() -> Publisher:
    return _publisher(os.getpid(), settings.REDIS_URL, socket_dir())


def _send(job_id: str) -> None:
    try:
        publisher().publish(job_id)
    except Exception as error:
        # Never fail the job for a notification: its followers' sweep finds the event.
        logger.warning("event notification for job %s not sent (%s)", job_id, type(error).__name__)


def event_written(job_id: uuid.UUID | str) -> None:
    """Notify the followers of ``job_id`` once the event just written is committed."""
    transaction.on_commit(functools.partial(_send, str(job_id)))
