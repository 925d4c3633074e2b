"""Celery's Redis transport without a new Redis client object per message.

kombu's Redis channel builds a fresh ``redis.Redis`` for every publish, every message it
receives and every ack (``Channel.conn_or_acquire``), and a client's constructor copies some two
hundred response callbacks: measured under load, a third of the worker's consumer-loop CPU and a
visible part of each submission. A client only wraps the channel's connection pool and is
thread-safe, so the channel keeps one (rebuilt if the channel replaces its pool). Everything
else is kombu's transport. ``settings.CELERY_BROKER_TRANSPORT`` selects it for ``redis://`` URLs.
"""

from __future__ import annotations

from typing import Any

from kombu.transport import redis


class Channel(redis.Channel):
    _sync_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._sync_client
        if client is None or client.connection_pool is not self.pool:
            client = self._sync_client = super()._create_client()
        return client


class Transport(redis.Transport):
    Channel = Channel
