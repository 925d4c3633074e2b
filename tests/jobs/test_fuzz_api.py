"""Fuzzing the submission API with BlockNote JSON, markdown and Yjs documents: whatever the body,
the answer is a 202 or a 4xx with a code, never a 500 (the test client re-raises nothing: a 500 is
an answer here, and the property fails on it). Inputs that once gave a 500 are fixed regressions
in test_input_limits.py."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suite_ai import blocknote
from tests.blocknote.fuzzing import fuzz_settings
from tests.blocknote.strategies import documents

pytestmark = pytest.mark.django_db

# Any character, lone surrogates and NUL included (hypothesis leaves surrogates out by default).
ANY_CHAR = st.characters(codec=None, categories=None)
TEXT = st.text(ANY_CHAR, max_size=40) | st.sampled_from(
    ["", " ", "\x00", "\ud800", "# Titre\n\n- a\n  - b", "|a|\n|-|"]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=30,
)
BLOCK_KEYS = st.sampled_from(["type", "content", "props", "children", "id", "text", "styles", "href"])
BLOCK_TYPES = st.sampled_from(["paragraph", "heading", "bulletListItem", "table", "codeBlock", "x", "text", "link"])


@st.composite
def block_like(draw: st.DrawFn) -> dict:
    """Blocks near the real shape: the right keys with values of any type."""
    block: dict = {"type": draw(BLOCK_TYPES)}
    for key in draw(st.lists(BLOCK_KEYS, max_size=4, unique=True)):
        block[key] = draw(JSON | st.lists(st.fixed_dictionaries({"type": BLOCK_TYPES, "text": TEXT}), max_size=3))
    return block


@pytest.fixture
def submitter(alice, model_settings, settings):
    settings.SUITE_AI_SUBMIT_RATE = "1000000/min"
    alice.client.raise_request_exception = False

    def submit(body: object, *, raw: bool = False):
        data = body if raw else json.dumps(body)
        response = alice.client.post(
            f"/api/v1.0/documents/{uuid.uuid4()}/actions/", data, content_type="application/json"
        )
        assert response.status_code == 202 or 400 <= response.status_code < 500, (
            response.status_code,
            response.content[:300],
        )
        if response.status_code != 202:
            assert isinstance(response.json()["code"], str)
        return response

    return submit


@fuzz_settings(100)
@given(blocks=st.lists(block_like(), max_size=4))
def test_random_blocknote_json_is_accepted_or_a_4xx(submitter, blocks) -> None:
    submitter({"action": "summarize", "input": {"blocks": blocks}})


@fuzz_settings(40)
@given(blocks=documents(max_size=4))
def test_valid_blocks_are_accepted(submitter, blocks) -> None:
    response = submitter({"action": "summarize", "input": {"blocks": blocknote.blocks_to_json(blocks)}})
    assert response.status_code in (202, 400)  # 400: blocks that hold no text (empty_input)
    if response.status_code == 400:
        assert response.json()["code"] == "empty_input"


@fuzz_settings(150)
@given(markdown=TEXT | st.text(max_size=400))
def test_random_markdown_is_accepted_or_a_4xx(submitter, markdown) -> None:
    submitter({"action": "rephrase", "input": {"markdown": markdown}})


@fuzz_settings(100)
@given(body=JSON)
def test_random_json_bodies_are_a_4xx_or_accepted(submitter, body) -> None:
    submitter(body)


@fuzz_settings(100)
@given(body=st.binary(max_size=200))
def test_random_bytes_as_a_body_are_a_4xx(submitter, body) -> None:
    submitter(body, raw=True)


@fuzz_settings(100)
@given(data=st.binary(max_size=300), block_ids=st.none() | st.lists(TEXT, max_size=3))
def test_random_ydoc_is_a_4xx_or_accepted(submitter, data, block_ids) -> None:
    body: dict = {"action": "summarize", "input": {"ydoc": base64.b64encode(data).decode()}}
    if block_ids is not None:
        body["input"]["block_ids"] = block_ids
    submitter(body)
