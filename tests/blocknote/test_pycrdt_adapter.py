"""Canary for the pycrdt internals that suite_ai.blocknote relies on (yjs/pycrdt_adapter.py).

Each test checks one numbered access point of the adapter's docstring against pycrdt's public
API. If a pycrdt upgrade breaks one, the test names it, before any document is misread or
miswritten.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pycrdt
import pytest
from pycrdt import Doc, Transaction, XmlElement, XmlFragment, XmlText

import suite_ai
from suite_ai.blocknote.yjs import pycrdt_adapter as adapter
from suite_ai.blocknote.yjs.encoder import StructEncoder, decode_state_vector

ATTRIBUTES: dict[str, Any] = {
    "id": "b1",
    "level": 2,
    "isToggleable": False,
    "checked": True,
    "previewWidth": 320.5,
    "colwidth": [100, None],
    "link": {"href": "https://ex.org"},
}


def _sample() -> Doc:
    """Every kind of node a BlockNote document holds, written through the public API."""
    doc: Doc = Doc()
    with doc.transaction():
        fragment = doc.get("document-store", type=XmlFragment)
        group = fragment.children.append(XmlElement("blockGroup"))
        container = group.children.append(XmlElement("blockContainer", {"id": "b1"}))
        paragraph = container.children.append(XmlElement("paragraph", ATTRIBUTES))
        first = paragraph.children.append(XmlText())
        first.insert(0, "Résumé 🚀 ")
        first.insert(len(first), "gras", {"bold": {}})
        first.insert(len(first), " lien", {"link": {"href": "https://ex.org"}, "italic": {}})
        paragraph.children.append(XmlElement("hardBreak"))
        paragraph.children.append(XmlText()).insert(0, "après")
        inline = paragraph.children.append(XmlElement("interlinkingLinkInline", {"docId": "d", "disabled": False}))
        inline.children.append(XmlText()).insert(0, "titre")
        container.children.append(XmlElement("blockGroup"))
        fragment.children.append(XmlText()).insert(0, "stray text at the root")
    return doc


def _public(element: XmlElement) -> tuple[Any, ...]:
    """Tag, attributes, inline runs and element children, read through pycrdt's public API."""
    runs: list[Any] = []
    for child in element.children:
        runs.extend(child.diff() if isinstance(child, XmlText) else [(child.tag, None)])
    children = [_public(child) for child in element.children if isinstance(child, XmlElement)]
    return (element.tag, dict(element.attributes), runs, children)


def _native(tree: adapter.NativeTree, element: Any) -> tuple[Any, ...]:
    """The same form, read through the adapter's native view."""
    runs = [(value if isinstance(value, str) else tree.tag(value), marks) for value, marks in tree.runs(element)]
    children = [_native(tree, child) for child in tree.children(element) if tree.tag(child) is not None]
    return (tree.tag(element), tree.attributes(element), runs, children)


def test_1_native_classes_and_their_methods_read_what_the_public_api_reads() -> None:
    assert hasattr(pycrdt, "_pycrdt"), "pycrdt._pycrdt (the native module) is gone"
    for name, methods in {"XmlElement": ("tag", "attributes", "children"), "XmlText": ("diff",)}.items():
        native = getattr(pycrdt._pycrdt, name, None)
        assert native is not None, f"pycrdt._pycrdt.{name} is gone"
        for method in methods:
            assert callable(getattr(native, method, None)), f"pycrdt._pycrdt.{name}.{method} is gone"
    doc = _sample()
    fragment = doc.get("document-store", type=XmlFragment)
    group = fragment.children[0]
    assert isinstance(group, XmlElement)
    with adapter.native_tree(doc) as tree:
        root = tree.root(fragment)
        assert [tree.tag(node) for node in root] == ["blockGroup", None]  # a text node has no tag
        assert _native(tree, root[0]) == _public(group)
    paragraph = _public(group)[3][0][3][0]
    assert paragraph[2] == [  # the runs of the paragraph, marks as objects, an inline element in place
        ("Résumé 🚀 ", None),
        ("gras", {"bold": {}}),
        (" lien", {"link": {"href": "https://ex.org"}, "italic": {}}),
        ("hardBreak", None),
        ("après", None),
        ("interlinkingLinkInline", None),
    ]


def test_1_attribute_values_keep_their_json_types() -> None:
    doc = _sample()
    fragment = doc.get("document-store", type=XmlFragment)
    with adapter.native_tree(doc) as tree:
        (group, _text) = tree.root(fragment)
        (container,) = tree.children(group)
        paragraph = tree.children(container)[0]
        attributes = tree.attributes(paragraph)
    assert attributes == ATTRIBUTES
    assert attributes["isToggleable"] is False and attributes["checked"] is True
    assert isinstance(attributes["level"], int | float) and not isinstance(attributes["level"], bool)


def test_2_and_3_native_transaction_and_integrated_fragment() -> None:
    doc = _sample()
    fragment = doc.get("document-store", type=XmlFragment)
    assert fragment.integrated is not None, "XmlFragment.integrated is gone"
    with doc.transaction() as transaction:
        assert isinstance(transaction, Transaction)
        assert transaction._txn is not None, "Transaction._txn is gone"
        children = fragment.integrated.children(transaction._txn)
    assert len(children) == len(fragment.children) == 2


def test_4_encoded_items_under_the_docs_own_client_are_integrated_as_its_own() -> None:
    doc = _sample()
    before = doc.get_update()
    client = doc.client_id
    clock = decode_state_vector(doc.get_state())[client]
    encoder = adapter.local_encoder(doc)
    assert (encoder.client, encoder.clock) == (client, clock)
    group = encoder.element("blockGroup", parent="document-store")
    encoder.attributes(group, {"marker": "encoded"})
    update = adapter.integrate_local_items(doc, encoder)
    assert decode_state_vector(doc.get_state())[client] == encoder.clock
    # pycrdt's own next edit continues on the same clock, after the encoded items.
    fragment = doc.get("document-store", type=XmlFragment)
    fragment.children.append(XmlElement("after"))
    assert decode_state_vector(doc.get_state())[client] == encoder.clock + 1
    marked = [child for child in fragment.children if isinstance(child, XmlElement) and child.attributes.get("marker")]
    assert len(fragment.children) == 4 and len(marked) == 1 and marked[0].tag == "blockGroup"
    # The returned update is the encoded items: a replica of the state before gets them from it.
    replica: Doc = Doc()
    replica.apply_update(before)
    replica.apply_update(update)
    children = list(replica.get("document-store", type=XmlFragment).children)
    assert len(children) == 3
    assert [dict(c.attributes) for c in children if isinstance(c, XmlElement) and c.attributes.get("marker")] == [
        {"marker": "encoded"}
    ]


def test_4_items_pycrdt_cannot_integrate_are_an_error_not_a_silent_gap() -> None:
    doc = _sample()
    clock = decode_state_vector(doc.get_state())[doc.client_id]
    encoder = StructEncoder(doc.client_id, clock + 5)  # a hole in the clock: pycrdt keeps them pending
    encoder.element("blockGroup", parent="document-store")
    with pytest.raises(RuntimeError, match="did not integrate"):
        adapter.integrate_local_items(doc, encoder)


def test_5_an_empty_element_inserted_last_in_a_transaction_is_the_last_local_item() -> None:
    doc = _sample()
    group = doc.get("document-store", type=XmlFragment).children[0]
    with doc.transaction():
        del group.children[0]
        group.children.append(XmlElement("blockContainer", {"id": "before"})).children.append(XmlText()).insert(
            0, "texte", {"bold": {}}
        )
        group.children.insert(1, XmlElement("blockContainer"))
    bare = adapter.last_local_item(doc)
    encoder = adapter.local_encoder(doc)
    encoder.attributes(bare, {"id": "placed"})
    adapter.integrate_local_items(doc, encoder)
    assert [dict(child.attributes).get("id") for child in group.children] == ["before", "placed"]


def test_no_other_module_goes_past_pycrdts_public_api() -> None:
    """The adapter is the one place to re-check on a pycrdt upgrade only while it is the only place."""
    package = Path(suite_ai.__file__).parent
    private = re.compile(r"\b_pycrdt\b|\._txn\b|\.integrated\b")
    offenders = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if path.name != "pycrdt_adapter.py" and private.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
