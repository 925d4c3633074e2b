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
import threading
import uuid
from pathlib import Path
from typing import Protocol

import redis
from django.conf import settings
from django.db import connection, transaction

from suite_ai.jobs import datagrams

logger = logging.getLogger(__name__)

CHANNEL_PREFIX = "suite_ai:job-events:"


def channel(job_id: uuid.UUID | str) -> str:
    return f"{CHANNEL_PREFIX}{job_id}"


def socket_dir() -> Path:
    return Path(settings.DATA_DIR) / "streams"  # as _publisher derives it


class Publisher(Protocol):
    def publish(self, job_id: str) -> None: ...


class RedisPublisher:
    """PUBLISH on one connection per process that asked Redis for no replies (``CLIENT REPLY
    OFF``): a notification is one ``send`` on a socket, where a client waiting for each reply
    spends a round trip, a pool checkout and the client's retry machinery on it, several times
    per job. A notification lost with a broken connection is left to the sweep."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self.connection = redis.ConnectionPool.from_url(
            url, socket_timeout=2, socket_connect_timeout=2
        ).make_connection()
        # Every (re)connection asks again: the handshake (AUTH, SELECT) is read, then no reply.
        self.connection.register_connect_callback(self._no_replies)

    def _no_replies(self, connection: redis.connection.AbstractConnection) -> None:
        connection.send_command("CLIENT", "REPLY", "OFF", check_health=False)

    def publish(self, job_id: str) -> None:
        name = channel(job_id).encode("ascii")
        command = b"*3\r\n$7\r\nPUBLISH\r\n$%d\r\n%s\r\n$0\r\n\r\n" % (len(name), name)  # RESP, packed here
        with self._lock:
            try:
                self.connection.send_packed_command([command], check_health=False)
            except redis.ConnectionError:  # Redis restarted: one new connection, one more try
                self.connection.send_packed_command([command], check_health=False)


class LocalPublisher:
    """Datagrams to the web processes of this machine (``suite_ai.jobs.datagrams``)."""

    def __init__(self, directory: Path) -> None:
        # A full receive queue (the web process busy) makes the sender wait, briefly: dropping
        # would leave the event to the sweep. A web process whose socket stayed full is skipped 1 s.
        self.fanout = datagrams.Fanout(directory, wait=0.05, backoff=1.0)

    def publish(self, job_id: str) -> None:
        self.fanout.send(job_id.encode("ascii"))


@functools.cache
def _publisher(pid: int, redis_url: str | None, data_dir: Path) -> Publisher:
    """One publisher per process (after a fork, the child makes its own) and configuration."""
    if redis_url:
        return RedisPublisher(redis_url)
    return LocalPublisher(data_dir / "streams")


def publisher() -> Publisher:
    return _publisher(os.getpid(), settings.REDIS_URL, settings.DATA_DIR)


def _send(job_id: str) -> None:
    try:
        publisher().publish(job_id)
    except Exception as error:
        # Never fail the job for a notification: its followers' sweep finds the event.
        logger.warning("event notification for job %s not sent (%s)", job_id, type(error).__name__)


class _Pending:
    """The jobs with new events in this thread's open transaction: one notification each at
    commit, however many events the transaction wrote (a job's last output and ``done`` share one)."""

    def __init__(self) -> None:
        self.jobs: set[str] = set()

    def send(self) -> None:
        jobs, self.jobs = self.jobs, set()
        for job_id in jobs:
            _send(job_id)


_pending = threading.local()


def event_written(job_id: uuid.UUID | str) -> None:
    """Notify the followers of ``job_id`` once the event just written is committed."""
    if not connection.in_atomic_block:
        _send(str(job_id))
        return
    pending: _Pending | None = getattr(_pending, "value", None)
    if pending is None:
        pending = _pending.value = _Pending()
    # Registered once per transaction. A rollback drops the callback, and with it the jobs of the
    # rolled-back events: a transaction that does not find it starts an empty set.
    if not any(entry[1] == pending.send for entry in connection.run_on_commit):
        pending.jobs = set()
        transaction.on_commit(pending.send)
    pending.jobs.add(str(job_id))
