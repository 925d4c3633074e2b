"""The model endpoint's settings are checked at start-up, and its error codes (OpenAI's shape,
apart from suite_ai's table) are the ones its README section lists, both ways."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from suite_ai.model_endpoint.wire import WIRE_CODES
from tests.support.settings_env import settings_from

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "suite_ai" / "model_endpoint"


def test_routes_upstreams_and_keys_are_read_and_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    found = settings_from(
        monkeypatch,
        SUITE_AI_MODEL_UPSTREAMS="albert=https://albert.api.etalab.gouv.fr/v1/",
        SUITE_AI_MODEL_UPSTREAM_KEYS="albert=k=ey",
        SUITE_AI_MODEL_ROUTES="small=albert:albert-large|mistral:mistral-small-latest,large=mistral:mistral-large",
    )
    assert found["SUITE_AI_MODEL_UPSTREAMS"] == {"albert": "https://albert.api.etalab.gouv.fr"}
    assert found["SUITE_AI_MODEL_UPSTREAM_KEYS"] == {"albert": "k=ey"}
    assert found["SUITE_AI_MODEL_ROUTES"] == {
        "small": (("albert", "albert-large"), ("mistral", "mistral-small-latest")),
        "large": (("mistral", "mistral-large"),),
    }
    assert found["SUITE_AI_MODEL_ENDPOINT_MAX_WAIT"] == 10.0


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"SUITE_AI_MODEL_ROUTES": "small=albert:albert-large"}, "unknown upstream 'albert'"),
        ({"SUITE_AI_MODEL_ROUTES": "small=albert-large"}, "expected model=upstream:model"),
        ({"SUITE_AI_MODEL_ROUTES": "small=mistral:"}, "expected model=upstream:model"),
        ({"SUITE_AI_MODEL_UPSTREAMS": "albert=albert.example"}, "expected name=base URL pairs"),
        ({"SUITE_AI_MODEL_ENDPOINT_MAX_WAIT": "-1"}, "SUITE_AI_MODEL_ENDPOINT_MAX_WAIT"),
    ],
)
def test_a_bad_value_stops_the_start_up(monkeypatch: pytest.MonkeyPatch, environment, expected) -> None:
    with pytest.raises(ImproperlyConfigured) as refused:
        settings_from(monkeypatch, **environment)
    assert expected in str(refused.value) and "\n" not in str(refused.value)


def codes_in_source() -> set[str]:
    """The codes of every ``WireError``/``Refused`` the package builds (the code: 2nd argument)."""
    codes: set[str] = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"WireError", "Refused"}:
                argument = node.args[1]
                assert isinstance(argument, ast.Constant), f"{path.name}:{node.lineno}: a computed code"
                codes.add(argument.value)
    return codes


def documented_codes() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n### A model endpoint for Docs' backend\n", 1)[1].split("\n## ", 1)[0]
    return {
        code
        for line in section.splitlines()
        if re.match(r"^\| [0-9x/ ]+ \|", line)
        for code in re.findall(r"`([a-z_]+)`", line.split("|")[2])
    }


def test_every_wire_code_is_answered_and_documented() -> None:
    assert codes_in_source() == set(WIRE_CODES) == documented_codes()
