"""Our broker transports: kombu's, with one Redis client per channel and atomic message files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from queue import Empty

import pytest
from kombu import Connection, Exchange, Queue
from kombu.utils.json import dumps as json_dumps

from suite_ai.jobs.transports import FilesystemChannel, RedisChannel

BROKER = "redis://127.0.0.1:6379/4"


@pytest.fixture
def connection():
    with Connection(BROKER, transport="suite_ai.jobs.transports:RedisTransport") as conn:
        yield conn


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


def test_messages_are_published_received_and_acked_through_one_client(connection):
    queue = Queue(f"test-{uuid.uuid4()}", Exchange(f"test-{uuid.uuid4()}", type="direct"), routing_key="job")
    channel = connection.channel()
    assert isinstance(channel, RedisChannel)
    producer = connection.Producer(channel)
    for n in range(3):
        producer.publish({"job": n}, exchange=queue.exchange, routing_key="job", declare=[queue])
    client = channel._create_client()
    received = []
    with connection.Consumer(queue, channel=channel, callbacks=[lambda body, message: received.append(message)]):
        while len(received) < 3:
            connection.drain_events(timeout=5)
    for message in received:
        message.ack()
    assert [m.payload for m in received] == [{"job": 0}, {"job": 1}, {"job": 2}]
    assert channel._create_client() is client  # the same client served every publish, delivery and ack
    assert channel.client is not client  # the event loop's asynchronous client stays kombu's own
    assert client.llen(queue.name) == 0 and channel.qos.can_consume()
    queue(channel).delete()


def test_a_replaced_pool_gets_a_new_client(connection):
    channel = connection.channel()
    first = channel._create_client()
    channel._pool = None  # what kombu does when the channel reconnects
    second = channel._create_client()
    assert second is not first and second.connection_pool is channel.pool
    assert second.ping()


@pytest.mark.parametrize(
    ("transport", "module", "safe"),
    [
        ("suite_ai.jobs.transports:FilesystemTransport", "suite_ai.jobs.transports", True),
        ("filesystem", "kombu.transport.filesystem", False),  # kombu's own: why ours exists
    ],
)
def test_a_reader_at_the_worst_moment_never_takes_a_half_written_message(
    tmp_path, monkeypatch, transport, module, safe
):
    """The reader lists the folder after the writer created the message file, before it wrote it
    (in production: beat or the web publishing while a worker polls)."""
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "polling_interval": 0}
    with Connection("filesystem://", transport=transport, transport_options=options) as conn:
        writer, reader = conn.channel(), conn.channel()
        seen: list[object] = []

        def serialize_then_read(payload: object) -> str:
            # The writer serializes once its file is open: read at exactly that moment.
            try:
                seen.append(reader._get("jobs"))
            except Empty:
                seen.append("nothing yet")
            except ValueError as error:
                seen.append(error)
            return json_dumps(payload)

        monkeypatch.setattr(f"{module}.dumps", serialize_then_read)
        writer._put("jobs", {"job": 1})
        if safe:
            assert seen == ["nothing yet"]
            assert reader._get("jobs") == {"job": 1}
            assert os.listdir(tmp_path) == []  # taken, and no staging file left behind
            assert isinstance(writer, FilesystemChannel)
        else:
            assert len(seen) == 1 and isinstance(seen[0], json.JSONDecodeError)  # the worker's crash
