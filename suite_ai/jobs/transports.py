"""kombu's broker transports with two fixes, selected in settings for ``redis://`` and the
embedded ``filesystem://`` broker (``CELERY_BROKER_TRANSPORT``). Everything else is kombu's.

Redis: kombu's channel builds a fresh ``redis.Redis`` for every publish, every message it
receives and every ack (``Channel.conn_or_acquire``), and a client's constructor copies some two
hundred response callbacks: measured under load, a third of the worker's consumer-loop CPU and a
visible part of each submission. A client only wraps the channel's connection pool and is
thread-safe, so the channel keeps one (rebuilt if the channel replaces its pool).

Filesystem: kombu writes a message file in place, so a worker that lists the folder at that
moment moves away an empty or half-written file, fails to parse it and stops consuming
("Unrecoverable error: JSONDecodeError"). A message is written under a name the reader skips,
then renamed to its final name: a rename within a folder is atomic.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem, redis
from kombu.utils.json import dumps


class RedisChannel(redis.Channel):
    _sync_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class RedisTransport(redis.Transport):
    Channel = RedisChannel


class FilesystemChannel(filesystem.Channel):
    # kombu's filesystem channel calls the argument "payload", its base class "message".
    def _put(self, queue: Any, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        # kombu's name: the reader takes files in name order and matches "<anything>.<queue>.msg".
        name = f"{round(time.monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        staging = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.tmp")
        try:
            with open(staging, "wb") as file:
                file.write(dumps(payload).encode())
            os.replace(staging, os.path.join(self.data_folder_out, name))
        except OSError as error:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out!r}") from error


class FilesystemTransport(filesystem.Transport):
    Channel = FilesystemChannel
