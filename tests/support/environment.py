"""Which environment variables the code reads, found in its syntax tree rather than by grep.

A read is a call or subscript whose variable name is a string literal:

- ``os.environ.get("X")``, ``os.environ["X"]`` (not an assignment), ``os.environ.setdefault("X", …)``,
  ``os.environ.pop("X")``, ``"X" in os.environ``, ``os.getenv("X")``, also through
  ``from os import environ, getenv`` and ``import os as …``;
- a call of a *reader*: a function that passes one of its parameters on as the name of a read
  (``env(name)`` → ``os.environ.get(name)``; ``env_int(name)`` → ``env_parsed(name, …)`` → ``env(name)``…),
  found to a fixed point, so ``env_url("DOCS_BASE_URL")`` counts whatever the helper is called.

A read whose name is neither a literal nor one of its function's parameters (``os.environ.get(key)``)
cannot be checked: it is reported as unresolved, and the test fails until it is written with a
literal. Names built from a parameter (``f"{name}_FILE"``) are the helper's own business: skipped.
Local dictionaries that happen to be called ``environ`` or ``env`` (a WSGI environ, a copy of the
environment for a child process) are not the process environment and are not counted.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

ENVIRON_METHODS = {"get", "setdefault", "pop"}


@dataclass(frozen=True)
class Read:
    name: str
    where: str  # path:line

    def __str__(self) -> str:
        return f"{self.name} ({self.where})"


@dataclass
class Found:
    reads: list[Read] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)  # path:line of reads whose name is not a literal

    @property
    def names(self) -> set[str]:
        return {read.name for read in self.reads}


@dataclass
class _Module:
    path: str
    tree: ast.Module
    os_names: set[str]  # names bound to the os module
    environ_names: set[str]  # names bound to os.environ
    getenv_names: set[str]  # names bound to os.getenv


def _module(path: str, source: str) -> _Module:
    tree = ast.parse(source, filename=path)
    os_names, environ_names, getenv_names = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names.update(alias.asname or alias.name for alias in node.names if alias.name == "os")
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name == "environ":
                    environ_names.add(alias.asname or alias.name)
                elif alias.name == "getenv":
                    getenv_names.add(alias.asname or alias.name)
    return _Module(path, tree, os_names, environ_names, getenv_names)


def _is_environ(module: _Module, node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "environ":
        return isinstance(node.value, ast.Name) and node.value.id in module.os_names
    return isinstance(node, ast.Name) and node.id in module.environ_names


def _is_getenv(module: _Module, node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "getenv":
        return isinstance(node.value, ast.Name) and node.value.id in module.os_names
    return isinstance(node, ast.Name) and node.id in module.getenv_names


def _argument(call: ast.Call, position: int, keyword: str | None) -> ast.expr | None:
    if len(call.args) > position and not any(isinstance(arg, ast.Starred) for arg in call.args[: position + 1]):
        return call.args[position]
    return next((kw.value for kw in call.keywords if keyword is not None and kw.arg == keyword), None)


Readers = dict[str, tuple[int, str]]  # function name → (position, name) of its parameter that names a variable


def _name_arguments(module: _Module, node: ast.AST, readers: Readers) -> Iterator[ast.expr]:
    """The expressions that name a variable in ``node``, if it reads one."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ENVIRON_METHODS and _is_environ(module, func.value):
            argument = _argument(node, 0, None)
        elif _is_getenv(module, func):
            argument = _argument(node, 0, "key")
        elif isinstance(func, ast.Name) and func.id in readers:
            argument = _argument(node, *readers[func.id])
        else:
            return
        if argument is not None:
            yield argument
    elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _is_environ(module, node.value):
        yield node.slice
    elif (
        isinstance(node, ast.Compare)
        and isinstance(node.ops[0], ast.In | ast.NotIn)
        and _is_environ(module, node.comparators[0])
    ):
        yield node.left


def _functions(tree: ast.AST) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef | None, ast.AST]]:
    """Every node with its innermost enclosing function (None at module level)."""

    def visit(node: ast.AST, function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> Iterator:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            yield inner, child
            yield from visit(child, inner)

    yield from visit(tree, None)


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef | None) -> list[str]:
    if function is None:
        return []
    arguments = function.args
    return [arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]


def find_reads(sources: Iterable[tuple[str, str]]) -> Found:
    """The reads in ``sources`` (path, source text) pairs."""
    modules = [_module(path, source) for path, source in sources]
    readers: Readers = {}
    changed = True
    while changed:  # a reader's callers may be readers too: until nothing new is found
        changed = False
        for module in modules:
            for function, node in _functions(module.tree):
                for argument in _name_arguments(module, node, readers):
                    named_by_parameter = isinstance(argument, ast.Name) and argument.id in _parameters(function)
                    if named_by_parameter and function is not None and function.name not in readers:
                        assert isinstance(argument, ast.Name)
                        positional = [arg.arg for arg in [*function.args.posonlyargs, *function.args.args]]
                        # A keyword-only parameter has no position: only its keyword finds it.
                        position = positional.index(argument.id) if argument.id in positional else 1 << 30
                        readers[function.name] = (position, argument.id)
                        changed = True
    found = Found()
    for module in modules:
        for function, node in _functions(module.tree):
            for argument in _name_arguments(module, node, readers):
                where = f"{module.path}:{getattr(node, 'lineno', '?')}"
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    found.reads.append(Read(argument.value, where))
                    continue
                parameters = set(_parameters(function))
                if parameters & {n.id for n in ast.walk(argument) if isinstance(n, ast.Name)}:
                    continue  # the helper's own (NAME, NAME_FILE): its callers are counted
                found.unresolved.append(where)
    return found


def find_reads_in(root: Path, paths: Iterable[Path]) -> Found:
    return find_reads((str(path.relative_to(root)), path.read_text(encoding="utf-8")) for path in paths)
