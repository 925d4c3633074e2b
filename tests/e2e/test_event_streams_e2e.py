"""Event streams through a real uvicorn web process: idle followers cost no thread and no database
connection, every follower receives what is written (pushed: the periodic sweep is turned off
here), a resumed stream gets exactly what it missed, and a browser follows ``links.events`` with
its ticket, which never reaches a log."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import httpx
import pytest
import redis
from django.db import connection
from django.utils import timezone

from suite_ai.accounts.models import User
from suite_ai.jobs import services, tickets
from suite_ai.jobs.management.commands.serve import web_command
from suite_ai.jobs.models import Job, JobEvent
from tests.support.processes import ManagedProcess, free_port, service_env, start_web
from tests.support.waiting import wait_finished, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FOLLOWERS = 200
JOBS = 50
NO_SWEEP = {"SUITE_AI_SSE_SWEEP_INTERVAL": "3600"}  # what arrives was pushed
REDIS_TEST_URL = "redis://127.0.0.1:6379/11"


def threads_of(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def database_files_open(pid: int) -> int:
    """Descriptors of the process on the SQLite database (its file, -wal, -shm): one set per
    connection."""
    name = str(connection.settings_dict["NAME"])
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        count += target == name
    return count


@pytest.fixture(params=["local", "redis"])
def transport(request, settings) -> dict[str, str]:
    """How the test (playing the worker) tells the web process: datagrams, or Redis pub/sub."""
    if request.param == "redis":
        try:
            redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
        except redis.RedisError:
            pytest.fail("no Redis on 127.0.0.1:6379: these tests need it (see tests/preflight.py)")
        settings.REDIS_URL = REDIS_TEST_URL
        return {"REDIS_URL": REDIS_TEST_URL}
    settings.REDIS_URL = None
    return {"REDIS_URL": ""}


def new_job(owner: User) -> Job:
    return Job.objects.create(
        owner=owner, document_id=uuid.uuid4(), action="summarize", input_hash="h", enqueued_at=timezone.now()
    )


class Crowd:
    """Event-stream clients on one asyncio loop, in a thread of the test, counting what they get."""

    def __init__(self, requests: list[tuple[str, dict[str, str]]]) -> None:
        self.requests = requests
        self.opened = 0
        self.ended = 0
        self.received: list[list[tuple[int, str]]] = [[] for _ in requests]
        self.errors: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._main(),), daemon=True)
        self._thread.start()

    async def _main(self) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            self._tasks = [
                asyncio.create_task(self._follow(session, index, url, headers))
                for index, (url, headers) in enumerate(self.requests)
            ]
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _follow(self, session: aiohttp.ClientSession, index: int, url: str, headers: dict[str, str]) -> None:
        try:
            async with session.get(url, headers=headers) as response:
                if response.status != 200:
                    self.errors.append(f"{response.status} {await response.text()}")
                    return
                event_id, kind = 0, ""
                async for raw in response.content:
                    line = raw.decode().rstrip("\r\n")
                    if line.startswith("retry:"):
                        self.opened += 1
                    elif line.startswith("id: "):
                        event_id = int(line[4:])
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif not line and kind:
                        self.received[index].append((event_id, kind))
                        kind = ""
        except aiohttp.ClientError as error:
            self.errors.append(repr(error))
        finally:
            self.ended += 1

    def count(self, kind: str) -> int:
        return sum(1 for events in self.received for _, k in events if k == kind)

    def close(self) -> None:
        for task in getattr(self, "_tasks", []):
            self._loop.call_soon_threadsafe(task.cancel)
        self._thread.join(timeout=30)


@pytest.fixture
def crowds() -> Iterator[list[Crowd]]:
    made: list[Crowd] = []
    yield made
    for crowd in made:
        crowd.close()


def test_idle_followers_hold_no_thread_and_no_connection_and_all_receive_what_is_written(
    alice, transport, crowds, tmp_path
):
    web, url = start_web(tmp_path, **NO_SWEEP, **transport)
    try:
        jobs = [new_job(User.objects.get(sub=alice.username)) for _ in range(JOBS)]
        token = alice.token
        requests = []
        for index in range(FOLLOWERS):
            job = jobs[index % JOBS]
            path = f"{url}/api/v1.0/jobs/{job.id}/events/"
            if index % 2:  # half of them as a browser's EventSource, half with the header
                requests.append((f"{path}?ticket={tickets.issue(job.id, job.owner_id)}", {}))
            else:
                requests.append((path, {"Authorization": f"Bearer {token}"}))
        # One API call first, so that the threads every web process has once it served anything (a
        # thread of the API's pool; on Postgres, the connection pool's own workers) are counted.
        assert httpx.get(f"{url}/api/v1.0/jobs/", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        threads_before = threads_of(web.process.pid)
        crowd = Crowd(requests)
        crowds.append(crowd)
        wait_for(lambda: crowd.opened + len(crowd.errors) == FOLLOWERS, timeout=60)
        assert crowd.errors == []

        # Idle: no thread per follower, and (SQLite: countable) no connection held.
        threads_idle = threads_of(web.process.pid)
        assert threads_idle - threads_before <= 2 * 2 + 2  # the two pools of SUITE_AI_SSE_DB_THREADS, not 200
        if connection.vendor == "sqlite":
            wait_for(lambda: database_files_open(web.process.pid) == 0, timeout=30)

        # Written once per job, received by each of its four followers: pushed, since no sweep runs.
        for job in jobs:
            services.emit(job.id, JobEvent.Kind.PROGRESS, {"done": 1, "total": 2})
        wait_for(lambda: crowd.count("progress") >= FOLLOWERS, timeout=60)
        for job in jobs:
            services.emit(job.id, JobEvent.Kind.DONE, {"status": "succeeded", "result": {"markdown": "fini"}})
        wait_for(lambda: crowd.ended == FOLLOWERS, timeout=60)  # every stream ends with its job
        assert crowd.count("progress") == crowd.count("done") == FOLLOWERS
        assert crowd.errors == []
        assert threads_of(web.process.pid) - threads_before <= 2 * 2 + 2
    finally:
        web.stop()


def read_events(lines: Iterator[str], count: int) -> list[tuple[int, str]]:
    """The next ``count`` events of a stream's lines (fewer if it ends first)."""
    events: list[tuple[int, str]] = []
    event_id, kind = 0, ""
    for line in lines:
        if line.startswith("id: "):
            event_id = int(line[4:])
        elif line.startswith("event: "):
            kind = line[7:]
        elif not line and kind:
            events.append((event_id, kind))
            kind = ""
            if len(events) == count:
                break
    return events


def test_a_resumed_stream_gets_exactly_the_events_it_missed(alice, transport, tmp_path):
    web, url = start_web(tmp_path, **NO_SWEEP, **transport)
    try:
        job = new_job(User.objects.get(sub=alice.username))
        path = f"{url}/api/v1.0/jobs/{job.id}/events/"
        headers = {"Authorization": f"Bearer {alice.token}"}

        def write(kind: str = JobEvent.Kind.DELTA) -> int:
            services.emit(job.id, kind, {"text": "x"} if kind == JobEvent.Kind.DELTA else {"status": "succeeded"})
            return JobEvent.objects.filter(job=job).latest("id").id

        before = [write() for _ in range(3)]
        with httpx.stream("GET", path, headers=headers, timeout=30) as stream:
            assert [event_id for event_id, _ in read_events(stream.iter_lines(), 3)] == before
        missed = [write() for _ in range(3)]  # while the client is away

        with httpx.stream("GET", path, headers={**headers, "Last-Event-ID": str(before[-1])}, timeout=30) as stream:
            lines = stream.iter_lines()
            replayed = read_events(lines, 3)
            last = write(JobEvent.Kind.DONE)  # and one more, live
            live = read_events(lines, 1)
        assert [event_id for event_id, _ in replayed] == missed
        assert live == [(last, "done")]
    finally:
        web.stop()


def test_a_browser_follows_links_events_with_its_ticket_alone(alice, worker, web, fake_model):
    fake_model.set_latency(0.2)
    submitted = httpx.post(
        f"{web}/api/v1.0/documents/{uuid.uuid4()}/actions/",
        json={"action": "rephrase", "input": {"markdown": "Une phrase à reformuler."}},
        headers={"Authorization": f"Bearer {alice.token}"},
        timeout=10,
    ).json()
    link = submitted["links"]["events"]
    assert urlsplit(link).query.startswith("ticket=")
    with httpx.stream("GET", link, headers={"Accept": "text/event-stream"}, timeout=30) as stream:
        assert stream.status_code == 200
        kinds = [kind for _, kind in read_events(stream.iter_lines(), 100)]  # until the stream ends
    assert kinds[0] == "status" and kinds[-1] == "done" and "delta" in kinds
    assert wait_finished(submitted["id"]).status == "succeeded"


def test_tickets_never_reach_the_access_log_and_refusals_are_json(alice, tmp_path):
    assert "--no-access-log" in web_command("127.0.0.1", 8000, 1)  # what `make run` starts
    # Even with uvicorn's access log on, the ticket in the URL is not what it prints.
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "suite_ai.asgi:application", "--host", "127.0.0.1",
               "--port", str(port), "--access-log", "--log-level", "info"]  # fmt: skip
    web = ManagedProcess("web-access-log", command, service_env(SUITE_AI_LOG_LEVEL="INFO"), Path(tmp_path))
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: web.process.poll() is None and "Application startup complete" in web.log(), timeout=60)
        job = new_job(User.objects.get(sub=alice.username))
        services.emit(job.id, JobEvent.Kind.DONE, {"status": "succeeded"})
        ticket = tickets.issue(job.id, job.owner_id)
        path = f"{url}/api/v1.0/jobs/{job.id}/events/"
        opened = httpx.get(f"{path}?ticket={ticket}", timeout=30)
        assert opened.status_code == 200 and "event: done" in opened.text
        tampered = httpx.get(f"{path}?ticket={ticket[:-2]}xx", timeout=30)
        assert (tampered.status_code, tampered.json()["code"]) == (401, "invalid_ticket")
        assert tampered.headers["content-type"] == "application/json"
        wait_for(lambda: web.log().count("ticket=redacted") == 2, timeout=30)
        log = web.log()
        assert ticket not in log and ticket.rsplit(":", 1)[1] not in log
    finally:
        web.stop()
