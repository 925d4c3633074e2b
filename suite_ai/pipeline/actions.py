"""The catalogue of actions: what each accepts, whether it needs a model, where its result goes.

This is the product's definition of an action; prompts (``suite_ai.llm.prompts``) say how the
model is asked to do it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from suite_ai.llm.languages import LANGUAGES

INSTRUCTION_MAX_LENGTH = 2000


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    required: bool = False
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    description: str = ""

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "type": {str: "string", int: "integer", bool: "boolean"}[self.type],
            "required": self.required,
            "description": self.description,
        }
        if self.choices:
            described["choices"] = list(self.choices)
        if self.max_length:
            described["max_length"] = self.max_length
        return described


@dataclass(frozen=True)
class Action:
    name: str
    label_fr: str
    label_en: str
    description: str
    options: tuple[Option, ...] = ()
    # True when only a model can do it; summarize and note also have the offline extractive engine.
    needs_model: bool = True
    has_offline_engine: bool = False
    writes_note: bool = False
    scope: tuple[str, ...] = ("selection", "document")
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", (*self.options, _PROMPT_LANG))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": {"fr": self.label_fr, "en": self.label_en},
            "description": self.description,
            "options": [option.describe() for option in self.options],
            "needs_model": self.needs_model,
            "offline_engine": self.has_offline_engine,
            "result": "note" if self.writes_note else "blocks",
            "scope": list(self.scope),
        }


# The language the model's instructions are written in; by default the text's own.
_PROMPT_LANG = Option("lang", str, choices=("fr", "en"), description="language of the instructions to the model")
_LANGUAGE = Option("language", str, required=True, choices=tuple(LANGUAGES), description="target language (ISO 639-1)")
_INSTRUCTION = Option(
    "instruction", str, required=True, max_length=INSTRUCTION_MAX_LENGTH, description="what to do with the text"
)

ACTIONS: dict[str, Action] = {
    action.name: action
    for action in (
        Action("summarize", "Résumer", "Summarize", "A short summary in the text's language.",
               has_offline_engine=True),
        Action("rephrase", "Reformuler", "Rephrase", "The same meaning in other words, formatting kept.",
               scope=("selection",)),
        Action("correct", "Corriger", "Correct", "Spelling and grammar fixed, nothing else changed.",
               scope=("selection",)),
        Action("simplify", "Simplifier (FALC)", "Simplify (plain language)",
               "Plain language, in the spirit of FALC (facile à lire et à comprendre).", scope=("selection",)),
        Action("formal", "Ton administratif", "Formal tone", "A formal, administrative register.",
               scope=("selection",)),
        Action("shorten", "Raccourcir", "Shorten", "Shorter, with every key point kept.", scope=("selection",)),
        Action("expand", "Développer", "Expand", "Developed, without inventing facts.", scope=("selection",)),
        Action("beautify", "Mettre en forme", "Beautify", "The same words, formatted for readability.",
               scope=("selection",)),
        Action("emojify", "Émojifier", "Emojify", "The same text with emojis on its important parts.",
               scope=("selection",)),
        Action("translate", "Traduire", "Translate", "Translated, structure and formatting kept.",
               options=(_LANGUAGE,)),
        Action("custom", "Instruction libre", "Custom instruction", "Your own instruction applied to the text.",
               options=(_INSTRUCTION,)),
        Action("note", "Générer une note de synthèse", "Generate a summary note",
               "A structured note (summary, key points, decisions, actions) created as a new document "
               "under the source, shared with its collaborators.",
               has_offline_engine=True, writes_note=True, scope=("document",)),
    )
}  # fmt: skip


def model_configured() -> bool:
    """Whether a language model is configured; without one only the offline engine runs."""
    return bool(settings.MISTRAL_API_KEY)


def catalogue() -> list[dict[str, Any]]:
    return [action.describe() for action in ACTIONS.values()]
