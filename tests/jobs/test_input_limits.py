"""Inputs that used to crash the web process or answer 500 are refused with a 4xx and a stable code,
and create no job. Each test fails on the code before the limits."""

from __future__ import annotations

import base64
import json
import uuid

import pytest

from suite_ai.jobs.models import Job
from tests.blocknote.payloads import nested_any_update, nested_arrays_update

pytestmark = pytest.mark.django_db


def post_raw(caller, body: str, **headers: str):
    """A body written by hand: the test client's JSON encoder would refuse a lone surrogate."""
    caller.client.raise_request_exception = False  # a 500 is an answer to assert on, not an exception
    return caller.client.post(
        f"/api/v1.0/documents/{uuid.uuid4()}/actions/", body, content_type="application/json", **headers
    )


def assert_refused(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    assert Job.objects.count() == 0
    return body


@pytest.mark.parametrize("payload", [nested_any_update(30_000), nested_arrays_update(30_000)], ids=["values", "types"])
def test_a_yjs_update_nested_thirty_thousand_deep_is_a_400(alice, model_settings, payload):
    # Before: the web process died with SIGSEGV inside pycrdt (the ``values`` payload, ~80 KB of base64).
    ydoc = base64.b64encode(payload).decode()
    body = assert_refused(alice.submit("summarize", input={"ydoc": ydoc}), 400, "ydoc_too_complex")
    assert "nest" in body["detail"]


def test_a_yjs_update_nested_too_deep_is_refused_in_french(alice, model_settings):
    ydoc = base64.b64encode(nested_any_update(300)).decode()
    body = {"action": "summarize", "input": {"ydoc": ydoc}}
    response = post_raw(alice, json.dumps(body), HTTP_ACCEPT_LANGUAGE="fr")
    assert "Yjs" in assert_refused(response, 400, "ydoc_too_complex")["message"]


def test_a_lone_surrogate_in_markdown_is_a_400(alice, model_settings):
    # Before: UnicodeEncodeError, 500.
    response = post_raw(alice, '{"action": "summarize", "input": {"markdown": "Bonjour \\ud800 à tous"}}')
    body = assert_refused(response, 400, "invalid_text")
    assert body["path"] == "input.markdown"


def test_a_surrogate_pair_escape_is_an_ordinary_character(alice, model_settings):
    response = post_raw(alice, '{"action": "summarize", "input": {"markdown": "Fusée \\ud83d\\ude80 partie."}}')
    assert response.status_code == 202, response.content


@pytest.mark.parametrize(
    "body",
    [
        {"action": "summarize", "input": {"markdown": "un\x00deux"}},
        {"action": "summarize\x00", "input": {"markdown": "texte"}},
        {"action": "translate", "input": {"markdown": "texte"}, "options": {"language": "en\x00"}},
        {"action": "summarize", "input": {"blocks": [{"type": "paragraph", "content": "a\x00"}]}},
        {"action": "summarize", "input": {"markdown": "texte"}, "options": {"k\x00": 1}},
    ],
    ids=["markdown", "action", "option", "blocks", "key"],
)
def test_a_nul_character_anywhere_is_a_400_before_the_database(alice, model_settings, body):
    # Before: Postgres raised DataError (500) and quoted the text into the log; SQLite stored it.
    assert_refused(post_raw(alice, json.dumps(body)), 400, "invalid_text")


def _nested_json(depth: int) -> str:
    return '{"action": "summarize", "input": {"markdown": "x"}, "options": {"x": ' + "[" * depth + "]" * depth + "}}"


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_beyond_the_parser_is_a_400(alice, model_settings, depth):
    # Before: RecursionError in the JSON parser, 500.
    assert_refused(post_raw(alice, _nested_json(depth)), 400, "input_too_deep")


def test_json_nested_below_the_parser_limit_but_too_deep_is_a_400(alice, model_settings):
    assert_refused(post_raw(alice, _nested_json(500)), 400, "input_too_deep")


def _nested_blocks(depth: int) -> list[dict]:
    block: dict = {"type": "paragraph", "content": "le plus profond"}
    for level in range(depth - 1):
        block = {"type": "paragraph", "content": f"niveau {level}", "children": [block]}
    return [block]


def _nested_blocks_json(depth: int) -> str:
    """The same tree as JSON text, written without recursion (json.dumps recurses per level)."""
    opening = '{"type": "paragraph", "content": "niveau", "children": ['
    return opening * (depth - 1) + '{"type": "paragraph", "content": "fond"}' + "]}" * (depth - 1)


def test_blocks_nested_480_deep_are_a_400(alice, model_settings):
    # Before: RecursionError while reading the blocks, 500.
    body = '{"action": "summarize", "input": {"blocks": [' + _nested_blocks_json(480) + "]}}"
    response = post_raw(alice, body)
    assert_refused(response, 400, "input_too_deep")


def test_blocks_one_level_over_the_setting_are_refused_and_at_the_setting_accepted(alice, model_settings, settings):
    settings.SUITE_AI_MAX_BLOCK_DEPTH = 20
    over = alice.submit("summarize", input={"blocks": _nested_blocks(21)})
    assert_refused(over, 400, "input_too_deep")
    assert alice.submit("summarize", input={"blocks": _nested_blocks(20)}).status_code == 202


def test_a_yjs_document_whose_blocks_nest_too_deep_is_refused(alice, model_settings, settings):
    from suite_ai import blocknote

    settings.SUITE_AI_MAX_BLOCK_DEPTH = 10
    update = blocknote.new_document_update(blocknote.blocks_from_json(_nested_blocks(11)))
    response = alice.submit("summarize", input={"ydoc": base64.b64encode(update).decode()})
    assert_refused(response, 400, "input_too_deep")
