"""Event-stream tickets (what a browser's EventSource opens ``links.events`` with) and the hub that
hands new events to the streams of one web process."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from suite_ai.accounts.models import User
from suite_ai.jobs import services, streams, tickets
from suite_ai.jobs.api import events as events_api
from suite_ai.jobs.models import Job, JobEvent

# --- Tickets -------------------------------------------------------------------------------------------


def events_link(caller, **body) -> tuple[str, str]:
    submitted = caller.submit("summarize", input={"markdown": "Un texte."}, **body).json()
    return submitted["id"], submitted["links"]["events"]


def ticket_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["ticket"][0]


def open_events(job_id: str, ticket: str | None = None, **headers: str):
    query = f"?ticket={ticket}" if ticket is not None else ""
    return APIClient().get(f"/api/v1.0/jobs/{job_id}/events/{query}", **headers)


def assert_refused(response, status: int, code: str) -> None:
    assert (response.status_code, response["Content-Type"]) == (status, "application/json")
    assert response.json()["code"] == code and response.json()["message"]


def test_links_events_opens_the_stream_without_any_header(alice, model_settings):
    job_id, link = events_link(alice)
    assert urlsplit(link).path == f"/api/v1.0/jobs/{job_id}/events/"
    assert alice.token not in link  # never the bearer token itself
    services.emit(job_id, JobEvent.Kind.PROGRESS, {"done": 1, "total": 2})
    response = APIClient().get(link)  # no Authorization: what EventSource sends
    assert response.status_code == 200 and response["Content-Type"].startswith("text/event-stream")
    assert b"event: progress" in response.content
    # The job's own view gives a fresh link.
    fresh = alice.client.get(f"/api/v1.0/jobs/{job_id}/").json()["links"]["events"]
    assert open_events(job_id, ticket_of(fresh)).status_code == 200


def test_a_ticket_opens_only_its_job(alice, bob, model_settings):
    job_id, link = events_link(alice)
    other_job, _ = events_link(alice)
    bobs_job, _ = events_link(bob)
    ticket = ticket_of(link)
    assert open_events(job_id, ticket).status_code == 200
    assert_refused(open_events(other_job, ticket), 401, "invalid_ticket")
    assert_refused(open_events(bobs_job, ticket), 401, "invalid_ticket")
    assert_refused(open_events(str(uuid.uuid4()), ticket), 401, "invalid_ticket")


def test_a_ticket_is_bound_to_the_owner_of_its_job(alice, bob, model_settings):
    job_id, link = events_link(alice)
    alice_id = str(Job.objects.get(id=job_id).owner_id)
    ticket = ticket_of(link)
    assert ticket.startswith(f"{alice_id}:")
    # Naming another owner breaks the signature.
    bob_id = str(User.objects.get(sub=bob.username).id)
    assert_refused(open_events(job_id, ticket.replace(alice_id, bob_id)), 401, "invalid_ticket")
    assert tickets.verify(job_id, ticket) == tickets.Ticket(job_id=job_id, owner_id=alice_id)


def test_a_ticket_expires(alice, model_settings, settings, monkeypatch):
    job_id, _ = events_link(alice)
    owner = Job.objects.get(id=job_id).owner_id
    issued_at = time.time() - settings.SUITE_AI_SSE_TICKET_TTL - 5
    monkeypatch.setattr(signing.time, "time", lambda: issued_at)
    old = tickets.issue(job_id, owner)
    monkeypatch.undo()
    assert_refused(open_events(job_id, old), 401, "ticket_expired")
    settings.SUITE_AI_SSE_TICKET_TTL = 10**9  # the same ticket, before its expiry
    assert open_events(job_id, old).status_code == 200


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # one character of the signature
        lambda t: t.rsplit(":", 1)[0],  # no signature
        lambda t: "",
        lambda t: "not-a-ticket",
        lambda t: t + ":extra",
    ],
)
def test_a_tampered_ticket_is_refused_with_a_code(alice, model_settings, tamper):
    job_id, link = events_link(alice)
    response = open_events(job_id, tamper(ticket_of(link)))
    assert_refused(response, 401, "invalid_ticket")
    assert response["WWW-Authenticate"] == "Bearer"


def test_no_other_signature_of_the_service_is_a_ticket(alice, model_settings):
    job_id, _ = events_link(alice)
    owner = Job.objects.get(id=job_id).owner_id
    foreign = signing.TimestampSigner(salt="another.purpose").sign(f"{job_id}:{owner}")[len(job_id) + 1 :]
    assert_refused(open_events(job_id, foreign), 401, "invalid_ticket")
    assert_refused(open_events(job_id, alice.token), 401, "invalid_ticket")  # nor a bearer token


def test_the_authorization_header_still_opens_the_stream(alice, bob, model_settings):
    job_id, _ = events_link(alice)
    assert open_events(job_id, HTTP_AUTHORIZATION=f"Bearer {alice.token}").status_code == 200
    assert_refused(open_events(job_id, HTTP_AUTHORIZATION=f"Bearer {bob.token}"), 404, "not_found")
    assert_refused(open_events(job_id), 401, "not_authenticated")
    assert_refused(open_events(job_id, HTTP_AUTHORIZATION="Bearer sai_unknown"), 401, "authentication_failed")


def test_the_stream_gives_the_cors_headers_of_the_rest_of_the_api(settings):
    settings.MIDDLEWARE = [events_api.CORS_MIDDLEWARE, *settings.MIDDLEWARE]
    settings.CORS_ALLOWED_ORIGINS = ["https://docs.example.gouv.fr"]
    settings.CORS_URLS_REGEX = r"^/api/"

    def scope(origin: str) -> dict:
        return {
            "type": "http",
            "method": "GET",
            "path": f"/api/v1.0/jobs/{uuid.uuid4()}/events/",
            "query_string": b"",
            "headers": [(b"origin", origin.encode())],
        }

    allowed = dict(events_api.cors_headers(scope("https://docs.example.gouv.fr")))
    assert allowed[b"access-control-allow-origin"] == b"https://docs.example.gouv.fr"
    assert b"access-control-allow-origin" not in dict(events_api.cors_headers(scope("https://evil.example.org")))


# --- The hub --------------------------------------------------------------------------------------------


class ManualListener:
    """Notifications delivered by the test, as Redis or a datagram would."""

    def __init__(self) -> None:
        self.watched: list[str] = []
        self.unwatched: list[str] = []
        self.hub: streams.Hub | None = None

    def start(self, hub: streams.Hub) -> None:
        self.hub = hub

    def watch(self, job_id: str) -> None:
        self.watched.append(job_id)

    def unwatch(self, job_id: str) -> None:
        self.unwatched.append(job_id)

    async def ready(self, job_id: str) -> None:
        return None

    async def close(self) -> None:
        return None


class CountingPool(streams.ReadPool):
    def __init__(self) -> None:
        super().__init__(2)
        self.reads = self.active = 0

    async def read(self, function, *args):
        self.reads += 1
        self.active += 1
        try:
            return await super().read(function, *args)
        finally:
            self.active -= 1


@pytest.fixture
def jobs(transactional_db) -> Iterator[list[str]]:
    owner = User.objects.create(sub="owner")
    made = [
        Job.objects.create(
            owner=owner, document_id=uuid.uuid4(), action="summarize", input_hash="h", enqueued_at=timezone.now()
        )
        for _ in range(3)
    ]
    yield [str(job.id) for job in made]
    connection.close()


def written(job_id: str, kind: str = "progress", **data: object) -> int:
    services.emit(job_id, kind, data)
    return JobEvent.objects.filter(job_id=job_id).latest("id").id


async def received(follower: streams.Follower, count: int) -> list[streams.StreamEvent]:
    got: list[streams.StreamEvent] = []
    while len(got) < count:
        await asyncio.wait_for(follower.wake.wait(), 30)
        got += follower.take()
    return got


async def off_loop(function, *args):
    """The test's own database writes, off the event loop (Django refuses them on it)."""
    return await asyncio.to_thread(streams._released, function, args)


def hub_with(pool: streams.ReadPool, listener: ManualListener, sweep: float = 3600) -> streams.Hub:
    hub = streams.Hub(pool, streams.ReadPool(1), listener, sweep)
    hub.start()
    return hub


def test_a_read_hands_its_answer_over_then_the_thread_gives_its_connection_back(jobs):
    def connected() -> bool:
        return connection.connection is not None

    def fails() -> None:
        raise ValueError("no such column")

    async def scenario() -> None:
        pool = streams.ReadPool(1)  # one thread: what runs next sees what the read left
        latest = await pool.read(streams.latest_event_ids, [jobs[0]])
        assert latest == {}
        assert await pool.run(connected) is False  # closed once the answer was handed over
        with pytest.raises(ValueError, match="no such column"):
            await pool.read(fails)
        assert await pool.run(connected) is False
        started, release = threading.Event(), threading.Event()

        def hold() -> bool:
            started.set()
            return release.wait(10)

        busy = asyncio.ensure_future(pool.read(hold))
        assert await asyncio.to_thread(started.wait, 10)
        queued = asyncio.ensure_future(pool.read(connected))
        await asyncio.sleep(0)  # handed to the pool, waiting for its one thread
        pool.close()
        release.set()
        assert await busy is True
        with pytest.raises(asyncio.CancelledError):  # shut down before its turn: no answer, no hang
            await asyncio.wait_for(queued, 10)

    asyncio.run(scenario())


def test_one_read_serves_every_follower_of_the_jobs_woken_together(jobs):
    async def scenario() -> None:
        pool, listener = CountingPool(), ManualListener()
        hub = hub_with(pool, listener)
        followers = [hub.join(job_id, 0) for job_id in jobs for _ in range(50)]
        for follower in followers:
            await hub.ready(follower)
        while hub._dirty or pool.active or not pool.reads:  # the replay reads (nothing yet)
            await asyncio.sleep(0.01)
        reads_before = pool.reads
        ids = [await off_loop(written, job_id) for job_id in jobs]
        for job_id in jobs:
            hub.wake(job_id)
        for follower in followers:
            [event] = await received(follower, 1)
            assert event.id == ids[jobs.index(follower.job_id)]
            assert event.frame.startswith(f"id: {event.id}\nevent: progress\ndata: ".encode())
        assert pool.reads - reads_before == 1  # 150 followers, 3 jobs: one query
        assert listener.watched == jobs  # one subscription per job, not per follower
        for follower in followers:
            hub.leave(follower)
        assert sorted(listener.unwatched) == sorted(jobs) and hub.followers == {}
        await hub.close()

    asyncio.run(scenario())


def test_a_follower_resuming_gets_exactly_the_events_after_its_last_id(jobs):
    job_id = jobs[0]
    ids = [written(job_id, n=n) for n in range(5)]

    async def scenario() -> None:
        hub = hub_with(streams.ReadPool(2), ManualListener())
        fresh, resumed = hub.join(job_id, 0), hub.join(job_id, ids[2])
        for follower in (fresh, resumed):
            await hub.ready(follower)
        assert [e.id for e in await received(fresh, 5)] == ids
        assert [e.id for e in await received(resumed, 2)] == ids[3:]
        later = await off_loop(written, job_id, "done")
        hub.wake(job_id)
        for follower in (fresh, resumed):
            [event] = await received(follower, 1)
            assert (event.id, event.kind, event.terminal) == (later, "done", True)
        await hub.close()

    asyncio.run(scenario())


def test_a_long_replay_is_read_in_several_batches(jobs, monkeypatch):
    monkeypatch.setattr(streams, "FETCH_ROWS", 7)
    job_id = jobs[0]
    ids = [written(job_id, n=n) for n in range(30)]

    async def scenario() -> None:
        hub = hub_with(streams.ReadPool(2), ManualListener())
        follower = hub.join(job_id, 0)
        await hub.ready(follower)
        assert [e.id for e in await received(follower, 30)] == ids
        await hub.close()

    asyncio.run(scenario())


def test_the_sweep_finds_an_event_whose_notification_was_lost(jobs):
    job_id = jobs[0]

    async def scenario() -> None:
        hub = hub_with(streams.ReadPool(2), ManualListener(), sweep=0.05)
        follower = hub.join(job_id, 0)
        await hub.ready(follower)
        event_id = await off_loop(written, job_id)  # and no notification
        [event] = await received(follower, 1)
        assert event.id == event_id
        await hub.close()

    asyncio.run(scenario())


# --- Notifications ----------------------------------------------------------------------------------


def test_a_transaction_notifies_each_of_its_jobs_once_after_it_commits(monkeypatch, transactional_db):
    from django.db import transaction

    from suite_ai.jobs import notify

    sent: list[str] = []
    monkeypatch.setattr(notify, "_send", sent.append)
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    with transaction.atomic():
        notify.event_written(first)
        notify.event_written(second)
        notify.event_written(first)  # its last output and ``done``: one notification
        assert sent == []  # nothing before the commit
    assert sorted(sent) == sorted([first, second])

    sent.clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify.event_written(first)
        raise RuntimeError("rolled back")
    with transaction.atomic():
        notify.event_written(second)
    assert sent == [second]  # the rolled-back event is not notified

    sent.clear()
    notify.event_written(first)  # outside a transaction: at once
    assert sent == [first]


def test_the_redis_publisher_sends_without_waiting_for_replies_and_reconnects():
    import redis

    from suite_ai.jobs import notify

    url = "redis://127.0.0.1:6379/11"
    try:
        listener = redis.Redis.from_url(url, socket_connect_timeout=1)
        listener.ping()
    except redis.RedisError:
        pytest.fail("no Redis on 127.0.0.1:6379: these tests need it (see tests/preflight.py)")
    job_id = str(uuid.uuid4())
    subscription = listener.pubsub(ignore_subscribe_messages=True)
    subscription.subscribe(notify.channel(job_id))
    publisher = notify.RedisPublisher(url)

    def received(count: int) -> int:
        got = 0
        deadline = time.monotonic() + 10
        while got < count and time.monotonic() < deadline:
            if subscription.get_message(timeout=0.5) is not None:
                got += 1
        return got

    for _ in range(50):
        publisher.publish(job_id)
    assert received(50) == 50
    publisher.connection.disconnect()  # as after a Redis restart
    publisher.publish(job_id)
    assert received(1) == 1
    # Nothing waits unread on the publisher's connection: Redis sends it no replies.
    assert not publisher.connection.can_read(timeout=0.2)
    subscription.close()


def test_without_redis_the_sweep_still_delivers(jobs):
    job_id = jobs[0]

    async def scenario() -> None:
        listener = streams.RedisListener("redis://127.0.0.1:1/0")  # nothing listens there
        hub = streams.Hub(streams.ReadPool(2), streams.ReadPool(1), listener, 0.05)
        hub.start()
        follower = hub.join(job_id, 0)
        await hub.ready(follower)
        event_id = await off_loop(written, job_id)
        [event] = await received(follower, 1)
        assert event.id == event_id
        await hub.close()

    asyncio.run(scenario())
