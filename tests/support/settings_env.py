"""``suite_ai/settings.py`` run afresh, as a process starting with a given environment would run it."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pytest

from tests.support.environment import find_reads_in

ROOT = Path(__file__).resolve().parents[2]
SETTINGS_FILE = ROOT / "suite_ai" / "settings.py"
# Everything the settings read, so that a run is not influenced by this machine's environment;
# the data directory and the secret key stay the test session's.
KEPT = {"SUITE_AI_DATA_DIR", "DJANGO_SECRET_KEY", "DJANGO_SETTINGS_MODULE"}
READ = sorted(find_reads_in(ROOT, [SETTINGS_FILE]).names - KEPT)


def settings_from(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    """The settings' globals for ``environment`` alone (plus the kept variables)."""
    for name in READ:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))
