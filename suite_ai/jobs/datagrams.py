"""One-datagram signals between the processes of this machine, through the Unix sockets the
receivers bind in a shared directory. Used twice on the embedded default (no Redis):

- job event notifications, to the web processes (``notify.LocalPublisher``, ``streams.LocalListener``);
- the embedded broker waking its consumers when a message is written (``transports``).

A datagram arrives whole or not at all, and nothing has to be kept or re-made when a receiver
restarts. A signal is only ever a hint: whoever receives it reads the truth elsewhere (the
database, the broker's message files) and has a periodic look of its own for a lost one.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from pathlib import Path

SOCKET_SUFFIX = ".sock"


def bind(directory: Path) -> tuple[socket.socket, Path]:
    """A datagram socket bound under a fresh name in ``directory`` (created if needed). Raises
    OSError, e.g. for a directory whose path is too long for a socket (108 bytes on Linux)."""
    path = directory / f"{os.getpid()}-{uuid.uuid4().hex[:8]}{SOCKET_SUFFIX}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        sock.bind(str(path))
    except OSError:
        sock.close()
        raise
    return sock, path


class Fanout:
    """Sends a datagram to every socket bound in ``directory``.

    ``wait``: how long a send may wait on a receiver whose queue is full (Linux queues few
    datagrams per socket); 0 never waits and drops the datagram. ``backoff``: how long a receiver
    whose queue stayed full is then skipped. A socket nobody reads any more (its process died
    without cleaning up) is removed."""

    RESCAN_EVERY = 1.0  # also re-list when the directory changes; this catches what its mtime misses

    def __init__(self, directory: Path, *, wait: float, backoff: float) -> None:
        self.directory = directory
        self.backoff = backoff
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if wait > 0:
            self.sock.settimeout(wait)
        else:
            self.sock.setblocking(False)
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

    def send(self, payload: bytes) -> None:
        now = time.monotonic()
        for target in self._refresh(now):
            if self._skip_until.get(target, 0.0) > now:
                continue
            try:
                self.sock.sendto(payload, target)
            except (TimeoutError, BlockingIOError):
                if self.backoff:
                    self._skip_until[target] = now + self.backoff
            except ConnectionRefusedError:
                Path(target).unlink(missing_ok=True)
            except OSError:
                pass  # gone between the listing and the send
