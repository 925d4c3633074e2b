"""A reader for the gettext catalogues (``.po``) suite_ai ships, enough for its tests: entries with
``msgid``, an optional ``msgid_plural``, their translations and flags. No msgfmt or babel needed."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def read_po(path: Path) -> list[Entry]:
    return parse_po(path.read_text(encoding="utf-8"), str(path))


def parse_po(text: str, name: str = "<po>") -> list[Entry]:
    entries: list[Entry] = []
    entry = Entry()
    current: tuple[str, int] | None = None  # which string a continuation line extends

    def finish() -> None:
        nonlocal entry, current
        if current is not None:
            entries.append(entry)
        entry, current = Entry(), None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            finish()
            continue
        if line.startswith("#~"):
            entry.obsolete = True
            continue
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        if keyword.startswith('"'):
            if current is None:
                raise ValueError(f"{name}: continuation line outside an entry: {raw!r}")
            _append(entry, current, ast.literal_eval(line))
            continue
        text = ast.literal_eval(rest)
        if keyword == "msgid":
            current = ("msgid", 0)
        elif keyword == "msgid_plural":
            current = ("msgid_plural", 0)
            entry.msgid_plural = ""
        elif keyword == "msgstr":
            current = ("msgstr", 0)
        elif keyword.startswith("msgstr["):
            current = ("msgstr", int(keyword[7:-1]))
        else:
            raise ValueError(f"{name}: unexpected line {raw!r}")
        if current[0] == "msgstr":
            entry.msgstr.setdefault(current[1], "")
        _append(entry, current, text)
    finish()
    return [entry for entry in entries if not entry.obsolete]


def _append(entry: Entry, where: tuple[str, int], text: str) -> None:
    name, index = where
    if name == "msgid":
        entry.msgid += text
    elif name == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    else:
        entry.msgstr[index] += text
