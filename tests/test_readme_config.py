"""The README's configuration tables and the code cannot drift apart: every environment variable
the code reads is documented there, and every variable documented there is read by the code."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.environment import find_reads, find_reads_in

ROOT = Path(__file__).resolve().parent.parent
CODE = [*sorted((ROOT / "suite_ai").rglob("*.py")), ROOT / "manage.py"]
README = ROOT / "README.md"


def documented_variables(readme: str) -> set[str]:
    """The variables named in the first column of the tables of the README's "Configuration" section."""
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        cells = line.split("|")
        if not line.startswith("|") or len(cells) < 3 or set(cells[1].strip()) <= {"-"}:
            continue
        names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", cells[1]))
    return names


def test_every_variable_the_code_reads_is_in_the_readme_table() -> None:
    found = find_reads_in(ROOT, CODE)
    assert not found.unresolved, f"reads whose variable name is not a literal: {found.unresolved}"
    documented = documented_variables(README.read_text(encoding="utf-8"))
    missing = sorted(str(read) for read in found.reads if read.name not in documented)
    assert not missing, "read by the code, missing from the README's configuration tables:\n" + "\n".join(missing)


def test_every_variable_in_the_readme_table_is_read_by_the_code() -> None:
    documented = documented_variables(README.read_text(encoding="utf-8"))
    stale = sorted(documented - find_reads_in(ROOT, CODE).names)
    assert not stale, f"in the README's configuration tables, read nowhere in the code: {stale}"


def test_the_finder_sees_every_way_of_reading_and_nothing_else() -> None:
    settings_like = """
import os
from os import environ as ENV, getenv

def env(name, default=None):
    path = os.environ.get(f"{name}_FILE")
    return os.environ.get(name, default)

def env_int(name, default):
    return int(env(name) or default)

def url_of(label, *, variable):
    return env(variable)

A = os.environ.get("A")
B = os.getenv("B", "b")
C = os.environ["C"]
D = "D" in os.environ
E = ENV.get("E")
F = getenv(key="F")
os.environ.setdefault("G", "1")
H = env_int("H", 3)
I = url_of("label", variable="I")
J = int(os.environ.get("J", "8000"))
"""
    not_the_environment = """
import os

def wsgi(environ, body):
    environ["CONTENT_LENGTH"] = str(len(body))
    return environ["PATH_INFO"], environ.get("QUERY_STRING")

def spawn():
    env = dict(os.environ)
    env["PROMETHEUS_MULTIPROC_DIR"] = "/tmp/metrics"
    env.pop("SOMETHING_FILE", None)
    os.environ["WRITTEN_ONLY"] = "1"
    return env.get("NOT_READ")
"""
    unresolved = """
import os

KEYS = ["X", "Y"]
values = [os.environ.get(key) for key in KEYS]
"""
    found = find_reads([("settings_like.py", settings_like), ("children.py", not_the_environment)])
    assert found.names == set("ABCDEFGHIJ")
    assert not found.unresolved
    assert find_reads([("loop.py", unresolved)]).unresolved == ["loop.py:5"]


def test_the_table_parser_reads_every_table_of_the_section_and_only_its_first_column() -> None:
    readme = """
## On a fresh machine

| `NOT_CONFIG` | x | y |

## Configuration

| variable | default | what |
|---|---|---|
| `ALPHA` / `BETA` | `GAMMA_IS_A_VALUE` | see `DELTA_IN_TEXT` |

### More

| variable | default | what |
|---|---|---|
| `EPSILON`, `ZETA` | 1 | z |

## API
| `NOT_CONFIG_EITHER` | | |
"""
    assert documented_variables(readme) == {"ALPHA", "BETA", "EPSILON", "ZETA"}
