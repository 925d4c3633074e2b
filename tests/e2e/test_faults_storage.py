"""Fault: the data directory is full. A real web server keeps its SQLite database and the
embedded broker's folders on a small tmpfs, which the test fills to the last byte: the kernel
answers ENOSPC to SQLite and to the broker's writes, as on a full disk. Submissions then answer
503 ``storage_full`` (or 202 when the row still fits and only the message could not be written:
the reconciler sends it later), never 500."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.processes import ROOT, ManagedProcess, service_env, start_web

pytestmark = [pytest.mark.e2e]

SIZE = "24m"


@pytest.fixture
def small_data_dir(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "data"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE},mode=0700", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs and needs root (or CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def full_disk_stack(small_data_dir: Path, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    env = {
        "SUITE_AI_DATA_DIR": str(small_data_dir),
        "DATABASE_URL": f"sqlite:///{small_data_dir / 'db.sqlite3'}",
        "MISTRAL_API_KEY": "unused",
    }
    environment = service_env(**env)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=environment, cwd=ROOT, check=True, capture_output=True)
    token = subprocess.run(
        [*manage, "create_token", "alice"], env=environment, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout.strip()
    web: ManagedProcess
    web, url = start_web(tmp_path, **env)
    try:
        yield url, token, small_data_dir
    finally:
        web.stop()


def fill(directory: Path) -> Path:
    """Write a file until the file system has no byte left."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for size in (1 << 20, 4096, 1):  # big writes, then down to the last byte
            try:
                while os.write(descriptor, b"\0" * size):
                    pass
            except OSError as error:
                assert error.errno == errno.ENOSPC
    finally:
        os.close(descriptor)
    return filler


def submit(url: str, token: str, text: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1.0/documents/{uuid.uuid4()}/actions/",
        json={"action": "summarize", "input": {"markdown": text}},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"},
        timeout=30,
    )


def test_a_full_data_directory_answers_503_storage_full_never_500(full_disk_stack):
    url, token, data_dir = full_disk_stack
    paragraph = "Le conseil a examiné le rapport annuel et adopté ses conclusions. " * 40
    assert submit(url, token, paragraph).status_code == 202

    filler = fill(data_dir)
    answers = [submit(url, token, f"{i} {paragraph * 8}") for i in range(6)]
    refused = [a for a in answers if a.status_code == 503]
    assert all(a.status_code in (202, 503) for a in answers), [(a.status_code, a.text[:200]) for a in answers]
    assert refused, "the full disk was never reported"
    for answer in refused:
        body = answer.json()
        assert body["code"] == "storage_full" and "full" in body["message"]
    french = httpx.post(
        f"{url}/api/v1.0/documents/{uuid.uuid4()}/actions/",
        json={"action": "summarize", "input": {"markdown": paragraph * 8}},
        headers={"Authorization": f"Bearer {token}", "Accept-Language": "fr"},
        timeout=30,
    )
    if french.status_code == 503:
        assert french.json()["code"] == "storage_full" and french.json()["message"] != refused[0].json()["message"]

    filler.unlink()  # space again: the service answers as before, no restart needed
    assert submit(url, token, paragraph).status_code == 202
