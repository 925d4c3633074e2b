"""Why pycrdt and not y-py 0.6.2: y-py cannot write a BlockNote document that Yjs reads correctly.

This test asserts the corruption happens (it documents the decision; if a y-py release ever fixes
it, this test fails and the decision can be revisited) and that pycrdt's equivalent is correct.
"""

from __future__ import annotations

import pytest
import y_py as Y

import suite_ai.blocknote as bn
from tests.blocknote.corpus import h, todo
from tests.interop.harness import NodeHarness

pytestmark = pytest.mark.interop

HEADING_ID = "3f1a5c2e-7b9d-4e2f-8a1c-6d5e4f3a2b10"
TODO_ID = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c61"


def _ypy_document() -> bytes:
    """The best y-py can do: every attribute a string, no marks."""
    doc = Y.YDoc()
    root = doc.get_xml_element("document-store")  # Yjs reads a root by name: as an XmlFragment
    with doc.begin_transaction() as txn:
        group = root.push_xml_element(txn, "blockGroup")
        container = group.push_xml_element(txn, "blockContainer")
        container.set_attribute(txn, "id", HEADING_ID)
        heading = container.push_xml_element(txn, "heading")
        for name, value in (
            ("textColor", "default"),
            ("backgroundColor", "default"),
            ("textAlignment", "left"),
            ("level", "2"),
            ("isToggleable", "false"),
        ):
            heading.set_attribute(txn, name, value)
        heading.push_xml_text(txn).push(txn, "Titre écrit par y-py")
        container = group.push_xml_element(txn, "blockContainer")
        container.set_attribute(txn, "id", TODO_ID)
        item = container.push_xml_element(txn, "checkListItem")
        for name, value in (
            ("textColor", "default"),
            ("backgroundColor", "default"),
            ("textAlignment", "left"),
            ("checked", "false"),
        ):
            item.set_attribute(txn, name, value)
        item.push_xml_text(txn).push(txn, "Tâche non faite")
    return bytes(Y.encode_state_as_update(doc))


def test_ypy_cannot_write_types_or_marks() -> None:
    doc = Y.YDoc()
    root = doc.get_xml_element("document-store")
    with doc.begin_transaction() as txn:
        element = root.push_xml_element(txn, "heading")
        with pytest.raises(TypeError):
            element.set_attribute(txn, "level", 2)
        with pytest.raises(TypeError):
            element.set_attribute(txn, "isToggleable", False)
        text = element.push_xml_text(txn)
        with pytest.raises(TypeError):
            text.insert(txn, 0, "gras", {"bold": {}})  # type: ignore[call-arg]
    assert not hasattr(Y.YXmlText, "format")


def test_ypy_attributes_are_corrupted_in_yjs(node: NodeHarness) -> None:
    heading, item = node.to_blocks(_ypy_document(), schema="blocknote")["blocks"]
    # Yjs reads a y-py attribute (ContentString) as its last character.
    assert heading["id"] == HEADING_ID[-1]  # the block id is destroyed
    assert heading["props"]["textColor"] == "t"  # "default"
    assert heading["props"]["textAlignment"] == "t"  # "left"
    assert heading["props"]["isToggleable"] == "e"  # "false": truthy, the heading becomes a toggle
    assert item["id"] == TODO_ID[-1]
    assert item["props"]["checked"] == "e"  # "false": truthy, the todo shows as done
    assert heading["content"][0]["text"] == "Titre écrit par y-py"


def test_pycrdt_writes_the_same_document_correctly(node: NodeHarness) -> None:
    heading = h(2, "Titre écrit par pycrdt", id=HEADING_ID)
    heading.content.append(bn.StyledText(" en gras", {"bold": True}))
    item = todo(False, "Tâche non faite", id=TODO_ID)
    shown = node.to_blocks(bn.new_document_update([heading, item]), schema="blocknote")
    assert not shown["mutated"]
    shown_heading, shown_item = shown["blocks"]
    assert shown_heading["id"] == HEADING_ID and shown_item["id"] == TODO_ID
    assert shown_heading["props"] == {
        "backgroundColor": "default",
        "textColor": "default",
        "textAlignment": "left",
        "level": 2,
        "isToggleable": False,
    }
    assert shown_item["props"]["checked"] is False
    assert shown_heading["content"][1] == {"type": "text", "text": " en gras", "styles": {"bold": True}}
