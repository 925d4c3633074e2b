"""kombu's broker transports with two fixes, selected in settings for ``redis://`` and the
embedded ``filesystem://`` broker (``CELERY_BROKER_TRANSPORT``). Everything else is kombu's.

Redis: kombu's channel builds a fresh ``redis.Redis`` for every publish, every message it
receives and every ack (``Channel.conn_or_acquire``), and a client's constructor copies all of
redis-py's response callbacks each time. A client only wraps the channel's connection pool and is
thread-safe, so the channel keeps one (rebuilt if the channel replaces its pool).

Filesystem: kombu writes a message file in place, so a worker that lists the folder at that
moment moves away an empty or half-written file, fails to parse it and stops consuming
("Unrecoverable error: JSONDecodeError"). A message is written under a name the reader skips,
then renamed to its final name: a rename within a folder is atomic.

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
``Channel._put``) and rely on private conventions (the pool attribute, the message file names
``_get`` reads). They were checked against one kombu release, ``WRITTEN_FOR``; with any other,
kombu's own behaviour runs and one warning says so, because a changed convention could turn our
writes into messages no reader takes. tests/jobs/test_transports.py has a canary per override;
after upgrading kombu, re-check them against its code and move ``WRITTEN_FOR``. Measured effects:
docs/performance.md.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import logging
import os
import threading
import time
import uuid
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
from kombu.utils.json import dumps
from redis import exceptions as redis_errors

logger = logging.getLogger(__name__)

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
            "transports (a Redis client per message; embedded broker files readable half-written). "
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


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
