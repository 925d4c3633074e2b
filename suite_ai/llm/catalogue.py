"""The actions the engine knows, as the REST API serves them (``GET /api/v1.0/actions/``): name,
labels in French and English, an options schema (type, required, choices), whether a model is
needed, the kind of output, and the prompt version in force."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from suite_ai.llm.languages import LANGUAGES
from suite_ai.llm.prompts import INSTRUCTION_MAX_CHARS, LANGS, PROMPT_VERSIONS, SYNTHESIS_ACTIONS


@dataclass(frozen=True)
class OptionSpec:
    name: str
    type: str  # string | integer | boolean
    required: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    max_length: int | None = None
    label: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        described: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "required": self.required,
            "label": self.label,
        }
        if self.choices:
            described["choices"] = list(self.choices)
        if self.default is not None:
            described["default"] = self.default
        if self.max_length is not None:
            described["max_length"] = self.max_length
        return described


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label_fr: str
    label_en: str
    description_fr: str
    description_en: str
    options: tuple[OptionSpec, ...] = ()
    needs_model: bool = True  # False: the offline extractive engine can serve it
    output: str = "replace"  # replace (the selection) | text (shown to the user) | note (a new document)

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": {"fr": self.label_fr, "en": self.label_en},
            "description": {"fr": self.description_fr, "en": self.description_en},
            "options": [option.describe() for option in self.options],
            "needs_model": self.needs_model,
            "output": self.output,
            "long_input": "map_reduce" if self.name in SYNTHESIS_ACTIONS else "per_chunk",
            "prompt_version": f"{self.name}@{PROMPT_VERSIONS[self.name]}",
        }

    def validate(self, options: dict[str, Any]) -> dict[str, Any]:
        """The options, checked against the schema (ValueError with a clear message otherwise)."""
        known = {option.name: option for option in self.options}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise ValueError(f"unknown option(s) for {self.name}: {', '.join(unknown)}")
        cleaned: dict[str, Any] = {}
        for option in self.options:
            value = options.get(option.name, option.default)
            if value is None:
                if option.required:
                    raise ValueError(f"{self.name} needs the option {option.name!r}")
                continue
            python_type = {"string": str, "integer": int, "boolean": bool}[option.type]
            if not isinstance(value, python_type):
                raise ValueError(f"option {option.name!r} must be a {option.type}")
            if option.choices and value not in option.choices:
                raise ValueError(f"option {option.name!r} must be one of the catalogue's choices")
            if option.max_length is not None and isinstance(value, str) and len(value) > option.max_length:
                raise ValueError(f"option {option.name!r} is longer than {option.max_length} characters")
            cleaned[option.name] = value
        return cleaned


LANG_OPTION = OptionSpec(
    "lang", "string", choices=LANGS,
    label={"fr": "Langue des consignes au modèle", "en": "Language of the instructions to the model"},
)  # fmt: skip
LANGUAGE_OPTION = OptionSpec(
    "language", "string", required=True, choices=tuple(LANGUAGES),
    label={"fr": "Langue cible (ISO 639-1)", "en": "Target language (ISO 639-1)"},
)  # fmt: skip
INSTRUCTION_OPTION = OptionSpec(
    "instruction", "string", required=True, max_length=INSTRUCTION_MAX_CHARS,
    label={"fr": "Consigne", "en": "Instruction"},
)  # fmt: skip

CATALOGUE: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("summarize", "Résumer", "Summarize", "Un résumé court, dans la langue du texte.",
                   "A short summary, in the text's language.", (LANG_OPTION,), needs_model=False, output="text"),
        ActionSpec("rephrase", "Reformuler", "Rephrase", "Le même sens avec d'autres mots, mise en forme gardée.",
                   "The same meaning in other words, formatting kept.", (LANG_OPTION,)),
        ActionSpec("correct", "Corriger", "Correct", "Orthographe et grammaire corrigées, rien d'autre.",
                   "Spelling and grammar fixed, nothing else changed.", (LANG_OPTION,)),
        ActionSpec("simplify", "Simplifier (FALC)", "Simplify (plain language)",
                   "En langage clair, dans l'esprit du FALC.", "Plain language, in the spirit of Easy-to-Read (FALC).",
                   (LANG_OPTION,)),
        ActionSpec("formal", "Ton administratif", "Formal tone", "Un registre administratif soutenu.",
                   "A formal, administrative register.", (LANG_OPTION,)),
        ActionSpec("shorten", "Raccourcir", "Shorten", "Plus court, points essentiels gardés.",
                   "Shorter, with every key point kept.", (LANG_OPTION,)),
        ActionSpec("expand", "Développer", "Expand", "Développé, sans inventer de faits.",
                   "Expanded, without inventing facts.", (LANG_OPTION,)),
        ActionSpec("translate", "Traduire", "Translate", "Traduit, structure et mise en forme gardées.",
                   "Translated, structure and formatting kept.", (LANGUAGE_OPTION, LANG_OPTION)),
        ActionSpec("custom", "Instruction libre", "Custom instruction", "Votre consigne appliquée au texte.",
                   "Your own instruction applied to the text.", (INSTRUCTION_OPTION, LANG_OPTION)),
        ActionSpec("note", "Note de synthèse", "Summary note",
                   "Une note structurée (titre, résumé, points clés, décisions, actions) avec des liens vers les "
                   "blocs sources, créée comme nouveau document partagé.",
                   "A structured note (title, summary, key points, decisions, actions) linking to its source "
                   "blocks, created as a new shared document.", (LANG_OPTION,), needs_model=False, output="note"),
    )
}  # fmt: skip


def catalogue() -> list[dict[str, Any]]:
    return [spec.describe() for spec in CATALOGUE.values()]
