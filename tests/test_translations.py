"""The French catalogue of suite_ai's messages: complete, consistent, and compiled.

``django.mo`` is committed (CI and the image need no msgfmt); these tests make sure it is the
compilation of ``django.po`` and that the ``.po`` covers every message the code marks. After
changing a message: ``cd suite_ai && ../manage.py makemessages -l fr --add-location file
--no-obsolete``, translate what is new or marked fuzzy (a guess from a near message: check it and
drop the flag), then ``../manage.py compilemessages`` (msgfmt, from gettext).
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest

from tests.support.po import Entry, read_po

PACKAGE = Path(__file__).resolve().parent.parent / "suite_ai"
CATALOGUE = PACKAGE / "locale" / "fr" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdrif]")
GETTEXT = {"_": 1, "gettext": 1, "gettext_lazy": 1, "ngettext": 2, "ngettext_lazy": 2}


def entries() -> list[Entry]:
    return [entry for entry in read_po(CATALOGUE / "django.po") if entry.msgid]


def marked_messages() -> set[tuple[str, str | None]]:
    """(msgid, msgid_plural) of every literal the code passes to gettext."""
    found: set[tuple[str, str | None]] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in GETTEXT):
                continue
            strings = [arg.value for arg in node.args[: GETTEXT[node.func.id]] if isinstance(arg, ast.Constant)]
            assert len(strings) == GETTEXT[node.func.id], f"{path}:{node.lineno}: gettext of a non-literal"
            found.add((strings[0], strings[1] if len(strings) > 1 else None))
    return found


def test_every_marked_message_has_a_french_translation():
    translated = {
        (entry.msgid, entry.msgid_plural)
        for entry in entries()
        if "fuzzy" not in entry.flags and entry.msgstr and all(entry.msgstr.values())
    }
    marked = marked_messages()
    assert len(marked) > 50  # the scan works
    missing = sorted(msgid for msgid, plural in marked - translated)
    assert not missing, f"messages without a French translation in django.po: {missing}"


@pytest.mark.parametrize("entry", entries(), ids=lambda entry: entry.msgid[:40])
def test_a_translation_keeps_the_placeholders(entry):
    expected = sorted(PLACEHOLDER.findall(entry.msgid))
    for translation in entry.msgstr.values():
        assert sorted(PLACEHOLDER.findall(translation)) == expected, translation


def test_the_committed_mo_is_the_compiled_po():
    with (CATALOGUE / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    assert compiled.info()["plural-forms"] == "nplurals=2; plural=(n > 1);"
    for entry in entries():
        if entry.msgid_plural is None:
            assert compiled.gettext(entry.msgid) == entry.msgstr[0]
        else:
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 1) == entry.msgstr[0]
            assert compiled.ngettext(entry.msgid, entry.msgid_plural, 2) == entry.msgstr[1]
    # Nothing in the .mo that the .po no longer has (``_catalog``: the only way to list a .mo).
    msgids = {key[0] if isinstance(key, tuple) else key for key in compiled._catalog} - {""}  # type: ignore[attr-defined]
    assert msgids == {entry.msgid for entry in entries()}
