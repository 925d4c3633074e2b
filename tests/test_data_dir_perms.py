"""The data directory (inputs and results in SQLite, broker messages, metrics, the secret key, beat's
schedule) is private to the service's user: folders 0700, files 0600, as the real commands create
them (issue #13: the database was created 0644)."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from tests.support.waiting import wait_for
from tests.test_serve import embedded_env, manage, start_serve, submit_and_finish

pytestmark = pytest.mark.e2e


def opened_to_others(root: Path) -> list[str]:
    """Everything under ``root`` (itself included) that its group or others may read, write or enter."""
    found = []
    for path in [root, *root.rglob("*")]:
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            continue  # a broker message consumed meanwhile
        if not stat.S_ISLNK(mode) and mode & 0o077:
            found.append(f"{path.relative_to(root.parent)} {stat.filemode(mode)}")
    return found


def test_migrate_creates_a_private_data_directory_and_database(tmp_path):
    data_dir = tmp_path / "fresh" / "data"  # its parents too are made by the settings
    result = manage(embedded_env(data_dir), "migrate", "--noinput")
    assert result.returncode == 0, result.stderr
    assert (data_dir / "suite_ai.sqlite3").exists()
    assert opened_to_others(data_dir) == []


class Watcher:
    """Samples the directory while the service runs: SQLite's -wal and -shm files exist only while
    a connection is open, so they are seen during the job, not necessarily after it."""

    def __init__(self, root: Path, preexisting: tuple[str, ...]) -> None:
        self.root = root
        # What an older release left open: serve closes it at start; checked once it runs.
        self.preexisting = {root.name, *(f"{root.name}/{name}" for name in preexisting)}
        self.seen: set[str] = set()
        self.opened: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.01):
            self.seen |= {path.name for path in self.root.glob("*")}
            found = opened_to_others(self.root)
            self.opened |= {entry for entry in found if entry.split(" ")[0] not in self.preexisting}

    def __enter__(self) -> Watcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def test_serve_keeps_everything_it_creates_private_and_closes_an_older_releases_files(tmp_path, log_dir):
    data_dir = tmp_path / "data"
    assert manage(embedded_env(data_dir), "migrate", "--noinput").returncode == 0
    # What an older release left: a world-readable directory and database.
    data_dir.chmod(0o755)
    (data_dir / "suite_ai.sqlite3").chmod(0o644)
    expected = ["suite_ai.sqlite3-wal", "suite_ai.sqlite3-shm", "celerybeat-schedule", "serve.lock"]
    with Watcher(data_dir, preexisting=("suite_ai.sqlite3",)) as watcher:
        served = start_serve(data_dir, log_dir)
        try:
            job = submit_and_finish(served)  # the offline engine: a job that writes input and result
            assert job["status"] == "succeeded", job
            wait_for(lambda: all(any(name in seen for seen in watcher.seen) for name in expected), timeout=60)
            assert any((data_dir / "metrics").iterdir()) and any((data_dir / "broker").rglob("*"))
            assert opened_to_others(data_dir) == []
        finally:
            served.process.stop()
    assert sorted(watcher.opened) == []  # nothing the service created was ever open to others
    assert opened_to_others(data_dir) == []
    assert os.stat(data_dir).st_mode & 0o777 == 0o700
