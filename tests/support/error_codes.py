"""The error codes suite_ai can answer, read from its source; and the codes its README documents.

The source is read with ``ast``, not imported: every place a code is chosen is a call to one of
the error constructors below (code as a literal, or a module constant), a ``code = "…"``
attribute of an error class that is raised (the libraries' Docs and BlockNote errors; a base
class that only its subclasses stand for is left out), or a value of
``suite_ai.api_errors._DRF_CODES``. A code that is computed (``error.code``) is a pass-through
of one of those and is reported apart, so a new way of choosing codes cannot slip by.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "suite_ai"
README = ROOT / "README.md"

# Callable name → position of its code argument (``code=`` as a keyword also counts).
CODE_ARGUMENT = {
    "APIError": 0,
    "ActionRequestError": 0,
    "AuthError": 0,
    "JobFailure": 0,
    "TicketError": 0,  # suite_ai.jobs.tickets: an event stream's ticket
    "ModelError": 0,
    "error_response": 0,  # suite_ai.api_errors: Django's error views
    "_error": 0,  # suite_ai.jobs.api.events
    "fail": 1,  # suite_ai.jobs.services.fail(job, code, message)
}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class Found:
    codes: dict[str, set[str]] = field(default_factory=dict)  # code → files choosing it
    passthrough: set[str] = field(default_factory=set)  # "file:line expression" of computed codes

    def add(self, code: str, where: str) -> None:
        self.codes.setdefault(code, set()).add(where)


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "snake_case"`` strings."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            for target in node.targets:
                if isinstance(target, ast.Name) and target.id.isupper() and CODE.match(node.value.value):
                    names[target.id] = node.value.value
    return names


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _code_values(node: ast.expr, constants: dict[str, str]) -> list[str] | None:
    """The codes an argument can be, or None when it is computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    if isinstance(node, ast.IfExp):
        body, orelse = _code_values(node.body, constants), _code_values(node.orelse, constants)
        return None if body is None or orelse is None else body + orelse
    return None


def _modules() -> dict[str, ast.Module]:
    return {
        str(path.relative_to(ROOT)): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in path.parts
    }


def _abstract_classes(modules: dict[str, ast.Module]) -> set[str]:
    """Classes that are subclassed but never called themselves: their ``code`` is never answered."""
    bases: set[str] = set()
    called: set[str] = set()
    for tree in modules.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases |= {base.id for base in node.bases if isinstance(base, ast.Name)}
            elif isinstance(node, ast.Call) and (name := _callee(node)):
                called.add(name)
    return bases - called


def codes_in_source() -> Found:
    found = Found()
    modules = _modules()
    abstract = _abstract_classes(modules)
    # Constants imported from another module (``from suite_ai.llm.errors import TIMEOUT``).
    shared: dict[str, str] = {}
    for tree in modules.values():
        shared.update(_constants(tree))
    for where, tree in modules.items():
        constants = {**shared, **_constants(tree)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (name := _callee(node)) in CODE_ARGUMENT:
                position = CODE_ARGUMENT[name]
                argument = next((k.value for k in node.keywords if k.arg == "code"), None)
                if argument is None and len(node.args) > position:
                    argument = node.args[position]
                if argument is None:
                    continue
                values = _code_values(argument, constants)
                if values is None:
                    found.passthrough.add(f"{where}:{node.lineno} {ast.unparse(argument)}")
                    continue
                for value in values:
                    found.add(value, where)
            elif isinstance(node, ast.ClassDef) and node.name not in abstract:
                for statement in node.body:
                    if (
                        isinstance(statement, ast.Assign)
                        and [getattr(t, "id", None) for t in statement.targets] == ["code"]
                        and isinstance(statement.value, ast.Constant)
                    ):
                        found.add(str(statement.value.value), where)
            elif isinstance(node, ast.AnnAssign) and getattr(node.target, "id", None) == "_DRF_CODES":
                assert isinstance(node.value, ast.Dict)
                for value in node.value.values:
                    assert isinstance(value, ast.Constant)
                    found.add(str(value.value), where)
    return found


def documented_codes() -> dict[str, str]:
    """``code → status`` from the table under README's "### Error codes"."""
    text = README.read_text(encoding="utf-8")
    start = text.index("### Error codes")
    end = text.find("\n#", start + 1)
    section = text[start : end if end != -1 else len(text)]
    codes: dict[str, str] = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        for code in re.findall(r"`([^`]+)`", cells[0]):
            if CODE.match(code):
                codes[code] = cells[1]
    return codes
