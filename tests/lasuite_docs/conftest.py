"""Fixtures: a fake OIDC provider and a fake Docs on loopback, and clients talking to them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import httpx
import pytest

from suite_ai.lasuite_docs import CONFIG_CACHE, DocsClient, RetryPolicy
from tests.fakes.docs_server import SUITE_AI_EXTERNAL_API, FakeDocsServer, FakeDocument, FakeUser
from tests.fakes.oidc_server import FakeOIDCProvider

SOURCE_MARKDOWN = "# Minutes\n\nWe agreed on the budget.\n\n- ship the note feature\n- review in May"


@pytest.fixture(scope="module")
def oidc() -> Iterator[FakeOIDCProvider]:
    with FakeOIDCProvider() as provider:
        yield provider


@pytest.fixture(autouse=True)
def _fresh_config_cache() -> Iterator[None]:
    # A new fake may reuse an earlier one's port: never let one test see another's Docs version.
    CONFIG_CACHE.clear()
    yield
    CONFIG_CACHE.clear()


@pytest.fixture
def docs(oidc: FakeOIDCProvider) -> Iterator[FakeDocsServer]:
    with FakeDocsServer(oidc=oidc, external_api=SUITE_AI_EXTERNAL_API) as server:
        yield server


@dataclass
class World:
    """alice owns the source; bob reads it; carol has no access; dave edits it."""

    docs: FakeDocsServer
    alice: FakeUser
    bob: FakeUser
    carol: FakeUser
    dave: FakeUser
    source: FakeDocument
    sleeps: list[float] = field(default_factory=list)

    def client(self, user: FakeUser | None, *, token: str | None = None, **kwargs: object) -> DocsClient:
        """A client acting as ``user`` (a fresh token), with fast retries and recorded sleeps."""
        kwargs.setdefault("retry", RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.02))
        kwargs.setdefault("timeout", httpx.Timeout(2.0))
        kwargs.setdefault("sleep", self.sleeps.append)
        user_token = token if token is not None else (self.docs.token_for(user) if user else None)
        return DocsClient(self.docs.url, user_token=user_token, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def world(docs: FakeDocsServer) -> World:
    alice = docs.add_user("alice-sub", "alice@example.org", "Alice Martin")
    bob = docs.add_user("bob-sub", "bob@example.org", "Bob Durand")
    carol = docs.add_user("carol-sub", "carol@example.org", "Carol Petit")
    dave = docs.add_user("dave-sub", "dave@example.org", "Dave Leroy")
    source = docs.add_document("Minutes", owner=alice, markdown=SOURCE_MARKDOWN)
    docs.grant(source, bob, "reader")
    docs.grant(source, dave, "editor")
    return World(docs, alice, bob, carol, dave, source)


@pytest.fixture
def client_for(world: World) -> Iterator[Callable[..., DocsClient]]:
    clients: list[DocsClient] = []

    def make(user: FakeUser | None, *, token: str | None = None, **kwargs: object) -> DocsClient:
        client = world.client(user, token=token, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
