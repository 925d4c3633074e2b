"""Our broker transports: kombu's, with one Redis client per channel and atomic message files.

Everything here goes through kombu's public API (``Connection``, ``Producer``, ``Consumer``,
``SimpleQueue``); each canary also runs against kombu's own behaviour (``OVERRIDES_ACTIVE``
off), where it must see the problem the override removes. After a kombu upgrade the version
canary fails until both overrides are re-checked (see suite_ai/jobs/transports.py)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from queue import Empty
from typing import Any

import pytest
import redis as redis_py
from kombu import Connection, Exchange, Queue
from kombu.transport import filesystem
from kombu.transport.virtual import base as virtual_base
from kombu.utils.json import dumps as json_dumps

from suite_ai.jobs import datagrams, transports

BROKER = "redis://127.0.0.1:6379/4"
REDIS_TRANSPORT = "suite_ai.jobs.transports:RedisTransport"
FILESYSTEM_TRANSPORT = "suite_ai.jobs.transports:FilesystemTransport"


@pytest.fixture(params=[True, False], ids=["ours", "kombu's"])
def overrides(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    monkeypatch.setattr(transports, "OVERRIDES_ACTIVE", request.param)
    return bool(request.param)


def test_the_overrides_are_written_for_the_installed_kombu_and_active():
    # Fails after an upgrade of kombu: re-check both overrides against its code, then move WRITTEN_FOR.
    assert transports.kombu_version() == transports.WRITTEN_FOR
    assert transports.OVERRIDES_ACTIVE is True


def test_another_kombu_version_runs_kombus_own_behaviour_and_warns_once(monkeypatch, caplog):
    monkeypatch.setattr(transports, "_warned", threading.Event())
    with caplog.at_level(logging.WARNING, logger=transports.__name__):
        assert transports.overrides_apply("5.8.0") is False
        assert transports.overrides_apply("5.8.0") is False
        assert transports.overrides_apply(None) is False
    warnings = [r for r in caplog.records if r.name == transports.__name__]
    assert len(warnings) == 1 and "5.8.0" in warnings[0].getMessage()
    assert transports.overrides_apply(transports.WRITTEN_FOR) is True


@pytest.mark.parametrize(
    ("broker", "transport"),
    [
        (BROKER, "suite_ai.jobs.transports.RedisTransport"),
        ("filesystem://", "suite_ai.jobs.transports.FilesystemTransport"),
        ("amqp://guest:guest@127.0.0.1:5672//", "kombu.transport.pyamqp.Transport"),
    ],
)
def test_is_the_transport_the_celery_app_uses_for_its_broker_url(broker, transport, tmp_path):
    script = (
        "import django; django.setup(); from suite_ai.celery import app; "
        "t = type(app.connection_for_write().transport); print(f'{t.__module__}.{t.__name__}')"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "suite_ai.settings", "CELERY_BROKER_URL": broker,
           "SUITE_AI_DATA_DIR": str(tmp_path), "DJANGO_SECRET_KEY": "k" * 50}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == transport


# --- Redis: one client per channel ------------------------------------------------------------------


@pytest.fixture
def redis_constructions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many ``redis.Redis`` (or subclass) objects are built from now on."""
    count = [0]
    init = redis_py.Redis.__init__

    def counted(self: Any, *args: Any, **kwargs: Any) -> None:
        count[0] += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(redis_py.Redis, "__init__", counted)
    return count


def _publish_and_consume(connection: Connection, messages: int) -> list[Any]:
    name = f"test-{uuid.uuid4()}"
    queue = Queue(name, Exchange(name, type="direct"), routing_key="job")
    received: list[Any] = []
    with connection.channel() as channel:
        producer = connection.Producer(channel)
        for n in range(messages):
            producer.publish({"job": n}, exchange=queue.exchange, routing_key="job", declare=[queue])
        with connection.Consumer(queue, channel=channel, callbacks=[lambda body, message: received.append(message)]):
            while len(received) < messages:
                connection.drain_events(timeout=5)
        for message in received:
            message.ack()
        queue(channel).delete()
    return [message.payload for message in received]


def test_canary_redis_messages_are_published_received_and_acked_through_one_client(overrides, redis_constructions):
    messages = 20
    with Connection(BROKER, transport=REDIS_TRANSPORT) as connection:
        connection.ensure_connection()
        payloads = _publish_and_consume(connection, messages)
    assert payloads == [{"job": n} for n in range(messages)]
    if overrides:
        # One client for publishes, deliveries and acks, one for kombu's event loop (its own).
        assert redis_constructions[0] <= 3
    else:  # kombu's own channel: a client per publish, per delivery and per ack
        assert redis_constructions[0] >= 2 * messages


def test_a_channel_that_replaces_its_pool_gets_a_new_client(redis_constructions):
    with Connection(BROKER, transport=REDIS_TRANSPORT) as connection:
        payloads = _publish_and_consume(connection, 2)
        before = redis_constructions[0]
        with connection.channel() as channel:
            channel.client.ping()
            channel._pool = None  # what kombu does when the channel reconnects
            producer = connection.Producer(channel)
            producer.publish({"job": "after"}, routing_key=f"test-{uuid.uuid4()}")
            producer.publish({"job": "after"}, routing_key=f"test-{uuid.uuid4()}")
    assert payloads == [{"job": 0}, {"job": 1}]
    assert 1 <= redis_constructions[0] - before <= 3  # a new client for the new pool, not one per publish


def _queue() -> Queue:
    name = f"test-{uuid.uuid4()}"
    return Queue(name, Exchange(name, type="direct"), routing_key="job")


def test_canary_redis_a_lost_connection_with_unacked_messages_closes_with_a_connection_error(overrides, own_redis):
    # A worker's connection when Redis goes away while jobs run: a channel holding messages
    # delivered but not acked yet, another channel (Celery has several), each waiting on a BRPOP.
    # Celery's consumer then calls Connection.collect() and Connection.close(); kombu ignores
    # connection errors while closing, anything else ends the worker ("Unrecoverable error").
    connection = Connection(own_redis.url, transport=REDIS_TRANSPORT)
    jobs, other = _queue(), _queue()
    received: list[Any] = []
    channel = connection.default_channel
    connection.Producer(channel).publish({"job": 1}, exchange=jobs.exchange, routing_key="job", declare=[jobs])
    connection.Consumer(jobs, channel=channel, callbacks=[lambda body, message: received.append(message)]).consume()
    connection.Consumer(other, channel=connection.channel(), callbacks=[lambda body, message: None]).consume()
    while not received:
        connection.drain_events(timeout=5)
    with pytest.raises(TimeoutError):  # both channels wait for their next message…
        connection.drain_events(timeout=0.2)
    own_redis.stop()  # …when Redis goes away
    connection.collect()
    if overrides:
        connection.close()
    else:
        with pytest.raises(AttributeError, match="hostname"):
            connection.close()


# --- Filesystem: a message appears whole, or not at all ---------------------------------------------


@pytest.fixture(scope="session")
def control_folder(tmp_path_factory: pytest.TempPathFactory) -> str:
    """kombu's exchange tables, one folder for the test session: kombu keeps the bindings it has
    written for the whole process (``Transport.state``), so a folder per test would lose them.
    (Without the option, kombu writes them to "control" in the working directory.)"""
    return str(tmp_path_factory.mktemp("kombu-control"))


@pytest.fixture
def folders(tmp_path: Any, control_folder: str) -> dict[str, Any]:
    (tmp_path / "queue").mkdir()
    return {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": control_folder,
        "polling_interval": 0,
    }


@pytest.fixture
def filesystem_connections(folders: dict[str, Any]) -> Iterator[tuple[Connection, Connection]]:
    """A producer's connection and a consumer's, on the same folder (two processes in production)."""
    with (
        Connection("filesystem://", transport=FILESYSTEM_TRANSPORT, transport_options=folders) as producer,
        Connection("filesystem://", transport=FILESYSTEM_TRANSPORT, transport_options=folders) as consumer,
    ):
        yield producer, consumer


def test_canary_filesystem_a_consumer_reading_while_a_message_is_written_never_gets_part_of_it(
    overrides, filesystem_connections, monkeypatch, tmp_path
):
    """The consumer reads at the worst moment: the writer has started writing the message (in
    production: beat or the web publishing while a worker polls)."""
    producer, consumer = filesystem_connections
    # Both ends declared first: kombu also serializes the exchange's table with ``dumps``.
    inbox, outbox = consumer.SimpleQueue("jobs"), producer.SimpleQueue("jobs")
    seen: list[object] = []
    # The writer serializes the message while writing it: that is when the consumer looks.
    serialize = json_dumps

    def serialize_while_the_consumer_reads(payload: object) -> str:
        try:
            seen.append(inbox.get(block=False).payload)
        except Empty:
            seen.append("nothing yet")
        except ValueError as error:  # a half-written message: the worker's "Unrecoverable error"
            seen.append(error)
        return serialize(payload)

    module = "suite_ai.jobs.transports" if overrides else "kombu.transport.filesystem"
    monkeypatch.setattr(f"{module}.dumps", serialize_while_the_consumer_reads)
    outbox.put({"job": 1})
    monkeypatch.undo()
    if overrides:
        assert seen == ["nothing yet"]
        assert inbox.get(block=False).payload == {"job": 1}  # then the whole message
        assert os.listdir(tmp_path / "queue") == []  # taken, and no staging file left behind
    else:  # kombu's own transport: the consumer took the file before the message was in it
        assert len(seen) == 1 and isinstance(seen[0], json.JSONDecodeError)


def test_filesystem_concurrent_publishers_and_a_consumer_see_only_whole_messages(filesystem_connections):
    """End to end, nothing lost or repeated. (The race itself is too narrow to hit this way even
    with kombu's own transport: the canary above is what puts the consumer at the worst moment.)"""
    producer_connection, consumer = filesystem_connections
    big = "é" * 200_000  # a message written in several system calls
    publishers, per_publisher = 4, 15
    errors: list[BaseException] = []

    def publish(index: int) -> None:
        try:
            with producer_connection.clone() as connection:
                queue = connection.SimpleQueue("bulk")
                for n in range(per_publisher):
                    queue.put({"publisher": index, "n": n, "text": big})
        except BaseException as error:
            errors.append(error)

    # Declared before the publishers start, as the worker declares its queue before anyone
    # publishes: kombu 5.7's filesystem transport creates an exchange's table file, then locks it,
    # so a second first declaration in between reads it empty (JSONDecodeError).
    inbox = consumer.SimpleQueue("bulk")
    threads = [threading.Thread(target=publish, args=(i,)) for i in range(publishers)]
    for thread in threads:
        thread.start()
    received = []
    while len(received) < publishers * per_publisher:
        message = inbox.get(block=True, timeout=30)  # a partial file would raise here
        received.append(message.payload)
        message.ack()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted((m["publisher"], m["n"]) for m in received) == [
        (i, n) for i in range(publishers) for n in range(per_publisher)
    ]
    assert all(m["text"] == big for m in received)


def test_a_failed_write_leaves_no_file_behind(filesystem_connections, monkeypatch, tmp_path):
    producer, _ = filesystem_connections

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(transports.os, "replace", disk_full)
    with pytest.raises(Exception, match="Cannot add a message"):
        producer.SimpleQueue("jobs").put({"job": 1})
    assert os.listdir(tmp_path / "queue") == []


# --- Filesystem: a written message wakes the consumers ----------------------------------------------


@pytest.fixture
def woken_folders(tmp_path: Any, control_folder: str) -> dict[str, Any]:
    """The embedded broker's layout (settings.py): messages in one folder, consumers' sockets in another."""
    return {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": control_folder,
        transports.WAKE_FOLDER: str(tmp_path / "wake"),
    }


def _connection(options: dict[str, Any], **overrides: Any) -> Connection:
    os.makedirs(options["data_folder_in"], exist_ok=True)
    return Connection("filesystem://", transport=FILESYSTEM_TRANSPORT, transport_options={**options, **overrides})


class WaitingConsumer:
    """A consumer waiting for one message in a thread, as a worker does (``drain_events``)."""

    def __init__(self, connection: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
        self.connection = connection
        self.looked = threading.Event()  # it has looked at the folder once and found nothing
        self.received: list[Any] = []
        self.delivered = threading.Event()
        get = filesystem.Channel._get

        def observed_get(channel: Any, queue: str) -> Any:
            try:
                return get(channel, queue)
            except Empty:
                self.looked.set()
                raise

        monkeypatch.setattr(filesystem.Channel, "_get", observed_get)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        message = self.connection.SimpleQueue("jobs").get(block=True, timeout=3600)
        self.received.append(message.payload)
        self.delivered.set()

    def __enter__(self) -> WaitingConsumer:
        self._thread.start()
        assert self.looked.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._thread.join(10)


def test_canary_filesystem_a_message_wakes_a_consumer_that_would_poll_an_hour_later(
    overrides, woken_folders, monkeypatch
):
    """The consumer has looked, found nothing and waits its polling interval (an hour here); a
    message is written. Ours: the message wakes it. kombu's: it sleeps until its next poll (the
    test ends that sleep)."""
    end_of_poll = threading.Event()
    monkeypatch.setattr(virtual_base, "sleep", end_of_poll.wait)  # kombu's sleep, made interruptible
    with (
        _connection(woken_folders, polling_interval=3600) as consumer,
        _connection(woken_folders) as producer,
        WaitingConsumer(consumer, monkeypatch) as waiting,
    ):
        producer.SimpleQueue("jobs").put({"job": 1})
        if overrides:
            assert waiting.delivered.wait(10)
        else:
            assert not waiting.delivered.wait(1)  # still asleep, an hour from its next look
            end_of_poll.set()
            assert waiting.delivered.wait(10)
    assert waiting.received == [{"job": 1}]
    assert list(Path(woken_folders[transports.WAKE_FOLDER]).glob("*")) == []  # its socket went with its connection


def test_filesystem_a_message_whose_wake_is_lost_is_taken_at_the_next_poll(woken_folders, monkeypatch, tmp_path):
    # The producer's datagram goes nowhere the consumer listens (in production: lost, or refused
    # by a socket that was just replaced): the file is still there for the consumer's next look.
    with (
        _connection(woken_folders, polling_interval=0.05) as consumer,
        _connection(woken_folders, **{transports.WAKE_FOLDER: str(tmp_path / "elsewhere")}) as producer,
        WaitingConsumer(consumer, monkeypatch) as waiting,
    ):
        producer.SimpleQueue("jobs").put({"job": 1})
        assert waiting.delivered.wait(10)
    assert waiting.received == [{"job": 1}]


def test_filesystem_the_socket_of_a_dead_consumer_is_removed_by_the_next_writer(woken_folders):
    wake = woken_folders[transports.WAKE_FOLDER]
    sock, path = datagrams.bind(Path(wake))
    sock.close()  # its process died without removing it: nobody reads it any more
    with _connection(woken_folders) as producer:
        producer.SimpleQueue("jobs").put({"job": 1})
        assert not path.exists()
        assert producer.SimpleQueue("jobs").get(block=False).payload == {"job": 1}  # the message is there


def test_filesystem_a_wake_folder_too_long_for_a_socket_means_polling(woken_folders, monkeypatch, tmp_path, caplog):
    deep = tmp_path / ("d" * 120)  # a socket's path is at most 108 bytes
    options = {**woken_folders, transports.WAKE_FOLDER: str(deep)}
    with (
        caplog.at_level(logging.WARNING, logger=transports.__name__),
        _connection(options, polling_interval=0.05) as consumer,
        _connection(options) as producer,
        WaitingConsumer(consumer, monkeypatch) as waiting,
    ):
        producer.SimpleQueue("jobs").put({"job": 1})
        assert waiting.delivered.wait(10)
    assert waiting.received == [{"job": 1}]
    assert any("not woken" in record.getMessage() for record in caplog.records)
