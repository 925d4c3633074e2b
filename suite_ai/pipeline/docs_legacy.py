"""Docs' own legacy AI requests (``ai-transform``, ``ai-translate``) as suite_ai actions.

Docs' actions (``AITransformSerializer``: prompt, correct, rephrase, summarize, beautify, emojify;
``AITranslateSerializer``: a language of Django's ``LANGUAGES``) map onto the catalogue:

* ``correct``, ``rephrase``, ``summarize``, ``beautify``, ``emojify``: the action of that name;
* ``prompt`` (Docs: "answer the prompt", the selection being the user's own request): ``custom``
  with the selection as the instruction, so the request sits where the owner's instructions go
  (quoted in the system prompt) and the text stays delimited data;
* ``ai-translate``: ``translate`` into the language's primary subtag (``es-co`` → ``es``). Its
  HTML is turned into markdown for the job and the job's markdown back into HTML for the answer
  (``suite_ai.blocknote.html``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from suite_ai.blocknote.html import html_to_markdown, markdown_to_html
from suite_ai.llm.languages import primary_language
from suite_ai.pipeline.actions import INSTRUCTION_MAX_LENGTH

TRANSFORM_ACTIONS = ("prompt", "correct", "rephrase", "summarize", "beautify", "emojify")
_ACTION_FOR = {"prompt": "custom"}


@dataclass(frozen=True)
class LegacyRequest:
    action: str
    options: dict[str, Any]
    input: dict[str, Any]


def transform_request(action: str, text: str) -> LegacyRequest:
    options: dict[str, Any] = {}
    if action == "prompt":
        options["instruction"] = text.strip()[:INSTRUCTION_MAX_LENGTH]
    return LegacyRequest(_ACTION_FOR.get(action, action), options, {"markdown": text})


def translate_request(language: str, html: str) -> LegacyRequest | None:
    """None when the language has no place in the catalogue (every Docs language has one)."""
    code = primary_language(language)
    if code is None:
        return None
    markdown = html_to_markdown(html)
    return LegacyRequest("translate", {"language": code}, {"markdown": markdown if markdown.strip() else html})


def translate_answer(markdown: str) -> str:
    return markdown_to_html(markdown)
