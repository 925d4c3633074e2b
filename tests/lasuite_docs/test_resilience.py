"""Docs down, slow, failing or throttling, and its collaboration safeguard."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from suite_ai.lasuite_docs import (
    DocsClient,
    DocsCollaborationLocked,
    DocsForbidden,
    DocsOutcomeUnknown,
    DocsRateLimited,
    DocsUnavailable,
    RetryPolicy,
    new_note_id,
    write_child_note,
)
from tests.fakes.docs_server import markdown_to_yjs
from tests.lasuite_docs.conftest import World
from tests.support.processes import free_port

Client = Callable[..., DocsClient]
NOTE = markdown_to_yjs("# Note\n\nbody")


def test_docs_down_is_unavailable_after_bounded_retries() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=3, backoff_base=0.2, backoff_max=0.3)
    client = DocsClient(f"http://127.0.0.1:{free_port()}", user_token="t", retry=policy, sleep=sleeps.append)
    with client, pytest.raises(DocsUnavailable) as caught:
        client.get_config()
    assert caught.value.code == "docs_unavailable" and caught.value.retryable
    assert len(sleeps) == 2, "3 attempts, 2 waits"
    assert 0.1 <= sleeps[0] <= 0.2 and 0.15 <= sleeps[1] <= 0.3, "exponential backoff with jitter, capped"


def test_repeated_5xx_is_unavailable(world: World, client_for: Client) -> None:
    world.docs.fail_next(r"/documents/", kind="status", status=503, times=3)
    with pytest.raises(DocsUnavailable) as caught:
        client_for(world.alice).get_document(world.source.id)
    assert caught.value.status == 503
    assert len(world.docs.requests_to(rf"/documents/{world.source.id}/$")) == 3


def test_a_transient_5xx_is_absorbed(world: World, client_for: Client) -> None:
    world.docs.fail_next(r"/content/$", kind="status", status=502, times=2)
    assert client_for(world.bob).get_content(world.source.id).content_b64 == world.docs.content(world.source)
    assert len(world.sleeps) == 2


def test_a_hanging_docs_times_out(world: World, client_for: Client) -> None:
    world.docs.fail_next(rf"/documents/{world.source.id}/$", kind="hang", delay=5, times=3)
    client = client_for(world.alice, timeout=httpx.Timeout(0.3))
    with pytest.raises(DocsUnavailable, match="ReadTimeout"):
        client.get_document(world.source.id)


def test_a_dropped_connection_is_retried_for_reads(world: World, client_for: Client) -> None:
    world.docs.fail_next(rf"/documents/{world.source.id}/$", kind="drop")
    assert client_for(world.alice).get_document(world.source.id).title == "Minutes"


def test_a_short_429_is_waited_out_in_place(world: World, client_for: Client) -> None:
    world.docs.fail_next(r"/content/$", kind="status", status=429, headers=[("Retry-After", "1")])
    client = client_for(world.bob)
    assert client.get_content(world.source.id).content_b64
    assert world.sleeps == [1.0]


def test_a_long_429_is_handed_back_to_the_caller(world: World, client_for: Client) -> None:
    world.docs.configure(throttle_rate=3)
    client = client_for(world.alice)
    for _ in range(3):
        client.get_document(world.source.id)
    with pytest.raises(DocsRateLimited) as caught:
        client.get_document(world.source.id)
    throttled = world.docs.requests[-1]
    assert throttled["status"] == 429
    assert caught.value.code == "docs_rate_limited" and caught.value.retryable
    assert caught.value.retry_after is not None and 50 <= caught.value.retry_after <= 60, (
        "Docs' Retry-After, for the task to re-schedule itself"
    )
    assert caught.value.as_dict()["retry_after"] == caught.value.retry_after
    assert world.sleeps == [], "no worker blocked sleeping"


def test_a_429_without_retry_after_assumes_a_long_wait(world: World, client_for: Client) -> None:
    world.docs.fail_next(r"/content/$", kind="status", status=429)
    with pytest.raises(DocsRateLimited) as caught:
        client_for(world.bob).get_content(world.source.id)
    assert caught.value.retry_after == RetryPolicy().default_retry_after


@pytest.mark.parametrize("fault", ["status_after", "drop_after"])
def test_create_for_owner_is_never_repeated_after_it_may_have_happened(world: World, fault: str) -> None:
    world.docs.fail_next(r"create-for-owner/$", kind=fault, status=500)
    client = DocsClient(world.docs.url, server_token="server-api-token", sleep=world.sleeps.append)
    with client, pytest.raises(DocsOutcomeUnknown):
        client.create_for_owner(title="Note", markdown="# Note", sub="alice-sub", email="alice@example.org")
    assert len(world.docs.requests_to(r"create-for-owner/$")) == 1
    assert world.sleeps == []


class TestCollaborationSafeguard:
    """COLLABORATION_WS_NOT_CONNECTED_READ_ONLY on: REST writes without websocket are refused while
    people are in the room, or while another session wrote without websocket in the last 120 s."""

    def test_a_live_document_refuses_rest_writes(self, world: World, client_for: Client) -> None:
        world.docs.configure(collaboration_read_only=True)
        world.docs.connect(world.source)
        before = world.docs.content(world.source)
        with pytest.raises(DocsCollaborationLocked) as caught:
            client_for(world.alice).update_content(world.source.id, NOTE)
        assert isinstance(caught.value, DocsForbidden)
        assert caught.value.code == "docs_collaboration_locked" and caught.value.retryable
        assert caught.value.retry_after == 120
        assert world.docs.content(world.source) == before

    def test_a_note_is_written_in_one_session(self, world: World, client_for: Client) -> None:
        world.docs.configure(collaboration_read_only=True)
        note_id = new_note_id()
        write_child_note(client_for(world.alice), world.source.id, note_id, "Note", NOTE)
        assert world.docs.content(note_id) == NOTE
        sessions = {r["session"] for r in world.docs.requests[1:]}
        assert len(sessions) == 1 and None not in sessions, "the docs_sessionid cookie is kept"

    def test_another_session_is_locked_out_for_a_while(self, world: World, client_for: Client) -> None:
        world.docs.configure(collaboration_read_only=True)
        client_for(world.alice).update_content(world.source.id, NOTE)
        with pytest.raises(DocsCollaborationLocked):
            client_for(world.dave).update_content(world.source.id, markdown_to_yjs("# Other"))
        assert world.docs.content(world.source) == NOTE
        client_for(world.dave).update_content(world.source.id, markdown_to_yjs("# Synced"), websocket=True)
        assert world.docs.text(world.source) == ["Synced"]

    def test_off_by_default(self, world: World, client_for: Client) -> None:
        world.docs.connect(world.source)
        client_for(world.alice).update_content(world.source.id, NOTE)
        assert world.docs.content(world.source) == NOTE
