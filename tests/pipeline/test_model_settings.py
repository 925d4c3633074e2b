"""The model layer's variables, the way the service reads them: environment → Django settings
(``suite_ai/settings.py``) → ``llm_settings()`` → the plan and the rate limiter a job uses."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from suite_ai.llm.ratelimit import Limits
from suite_ai.pipeline.actions import ACTIONS
from suite_ai.pipeline.model import limiter, llm_settings, plan
from tests.support.settings_env import settings_from

MODEL_LAYER = (
    "MISTRAL_API_KEY",
    "MISTRAL_SERVER_URL",
    "MISTRAL_MODEL",
    "MISTRAL_MODEL_LONG",
    "MISTRAL_CONTEXT_TOKENS",
    "MISTRAL_CONTEXT_TOKENS_BY_MODEL",
    "SUITE_AI_CHUNK_TOKENS",
    "SUITE_AI_MODEL_RPM",
    "SUITE_AI_MODEL_TPM",
    "SUITE_AI_MODEL_LIMITS",
    "SUITE_AI_ACTION_MODELS",
    "SUITE_AI_PROMPT_LANG",
)


def test_the_model_layer_variables_reach_the_plan_and_the_limiter(monkeypatch, settings, tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text("secret-from-file\n")
    loaded = settings_from(
        monkeypatch,
        MISTRAL_API_KEY_FILE=str(key_file),
        MISTRAL_SERVER_URL="https://albert.api.etalab.gouv.fr",
        MISTRAL_MODEL="albert-small",
        MISTRAL_MODEL_LONG="albert-large",
        MISTRAL_CONTEXT_TOKENS="64000",
        MISTRAL_CONTEXT_TOKENS_BY_MODEL="albert-small=16000",
        SUITE_AI_CHUNK_TOKENS="8000",
        SUITE_AI_MODEL_RPM="60",
        SUITE_AI_MODEL_LIMITS="albert-large=10/200000, albert-tiny=30",
        SUITE_AI_ACTION_MODELS="translate=albert-large",
        SUITE_AI_PROMPT_LANG="en",
    )
    for name in MODEL_LAYER:
        setattr(settings, name, loaded[name])

    config = llm_settings()
    assert (config.api_key, config.server_url) == ("secret-from-file", "https://albert.api.etalab.gouv.fr")
    translate = plan(ACTIONS["translate"], attempt=2)
    assert (translate.model, translate.lang, translate.attempt) == ("albert-large", "en", 2)  # the action's model
    assert plan(ACTIONS["note"], attempt=1).model == "albert-large"  # notes: the long model
    rephrase = plan(ACTIONS["rephrase"], attempt=1)
    assert rephrase.model == "albert-small"
    # That model's own window (16k) caps the chunk below SUITE_AI_CHUNK_TOKENS; the others keep 64k.
    assert config.context_window("albert-small") == 16_000 and config.context_window("albert-large") == 64_000
    assert rephrase.chunk_tokens < 8_000 == plan(ACTIONS["translate"], attempt=1).chunk_tokens
    shared = limiter()
    assert shared.limits_for("albert-large") == Limits(requests_per_minute=10, tokens_per_minute=200_000)
    assert shared.limits_for("albert-tiny") == Limits(requests_per_minute=30)
    assert shared.limits_for("albert-small") == Limits(requests_per_minute=60)  # SUITE_AI_MODEL_RPM
    assert limiter() is shared  # one limiter (one in-process log) for every job of the process


def test_unset_variables_leave_the_model_layer_its_defaults(monkeypatch, settings):
    loaded = settings_from(monkeypatch)
    for name in MODEL_LAYER:
        setattr(settings, name, loaded[name])
    config = llm_settings()
    assert not config.action_models and not config.context_tokens_by_model and not config.limits_by_model
    assert config.lang is None and config.model_for("translate") == config.model


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SUITE_AI_ACTION_MODELS", "translate", "action=model"),
        ("SUITE_AI_ACTION_MODELS", "translate=", "action=model"),
        ("SUITE_AI_ACTION_MODELS", "summarise=mistral-large-latest", "among: summarize"),
        ("SUITE_AI_MODEL_LIMITS", "albert-large=sixty/1000", "requests/tokens per minute"),
        ("SUITE_AI_MODEL_LIMITS", "albert-large=60/", "requests/tokens per minute"),
        ("SUITE_AI_MODEL_LIMITS", "albert-large=-1/1000", "requests/tokens per minute"),
        ("MISTRAL_CONTEXT_TOKENS_BY_MODEL", "albert-large=128k", "model=tokens"),
        ("MISTRAL_CONTEXT_TOKENS_BY_MODEL", "albert-large=0", "model=tokens"),
        ("SUITE_AI_PROMPT_LANG", "de", "one of: fr, en"),
    ],
)
def test_a_malformed_value_stops_the_start_up_naming_its_variable(monkeypatch, variable, value, expected):
    with pytest.raises(ImproperlyConfigured) as refused:
        settings_from(monkeypatch, **{variable: value})
    message = str(refused.value)
    assert message.startswith(f"{variable}: ") and expected in message
