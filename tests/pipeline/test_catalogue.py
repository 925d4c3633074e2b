"""The product's catalogue (pipeline) and the model layer's prompts (llm) name the same actions."""

from __future__ import annotations

from suite_ai.llm.prompts import PROMPTS
from suite_ai.pipeline.actions import ACTIONS


def test_every_catalogue_action_has_a_prompt_and_every_prompt_an_action():
    assert sorted(ACTIONS) == sorted(PROMPTS)
