"""The y-py row of the requirement, served by its successor: pycrdt, proven with the real Yjs/BlockNote.

y-py 0.6.2 (archived; its README points to pycrdt) could not write a BlockNote document: Yjs read
every attribute it wrote as the value's last character (block ids became one character, "default"
became "t"), it refused int and bool attributes, and it could neither write nor read text marks
(measured with these same libraries: docs/decisions.md, "pycrdt, not y-py"). y-py is no longer a
dependency; these tests write and read exactly those things with pycrdt and let the real libraries
(tests/interop/harness.mjs, every BlockNote version the harness serves) judge the result.

Every value differs from BlockNote's default, so a dropped attribute or mark cannot pass unseen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

import suite_ai.blocknote as bn
from tests.interop.harness import NodeHarness

pytestmark = pytest.mark.interop

HEADING_ID = "3f1a5c2e-7b9d-4e2f-8a1c-6d5e4f3a2b10"
TODO_ID = "9c8b7a6d-5e4f-4a3b-9c2d-1e0f9a8b7c61"
HREF = "https://docs.numerique.gouv.fr/docs/4a7c2e1f-0b3d-4c5e-9f8a-1b2c3d4e5f60/"

# Strings of several characters (y-py's reads kept only the last one), an int and bools.
HEADING_PROPS: dict[str, Any] = {
    "textColor": "default",
    "backgroundColor": "blue",
    "textAlignment": "center",
    "level": 3,
    "isToggleable": False,
}
TODO_PROPS: dict[str, Any] = {
    "textColor": "red",
    "backgroundColor": "default",
    "textAlignment": "left",
    "checked": True,
}
# (text, Yjs formatting attributes): y-prosemirror stores marks as attributes of the text runs.
HEADING_RUNS: list[tuple[str, dict[str, Any] | None]] = [
    ("Titre ", None),
    ("en gras", {"bold": {}}),
    (" et ", None),
    ("un lien", {"link": {"href": HREF}}),
]
TODO_TEXT = "Tâche faite"

# What Yjs itself holds, before BlockNote interprets it: harness.mjs's canonical XML (attributes
# sorted and JSON-encoded, so 3 and "3", true and "true" differ; text as its Yjs delta).
EXPECTED_XML = (
    "<#fragment><blockGroup>"
    f'<blockContainer id="{HEADING_ID}">'
    '<heading backgroundColor="blue" isToggleable=false level=3 textAlignment="center" textColor="default">'
    '[{"insert":"Titre "},{"insert":"en gras","attributes":{"bold":{}}},{"insert":" et "},'
    f'{{"insert":"un lien","attributes":{{"link":{{"href":"{HREF}"}}}}}}]'
    "</heading></blockContainer>"
    f'<blockContainer id="{TODO_ID}">'
    '<checkListItem backgroundColor="default" checked=true textAlignment="left" textColor="red">'
    '[{"insert":"Tâche faite"}]'
    "</checkListItem></blockContainer>"
    "</blockGroup></#fragment>"
)


def written_with_pycrdt() -> bytes:
    """The document through pycrdt's own API, as y-py's test wrote it: no suite_ai code involved."""
    doc = Doc()
    group = doc.get(bn.FRAGMENT_NAME, type=XmlFragment).children.append(XmlElement("blockGroup"))
    container = group.children.append(XmlElement("blockContainer", {"id": HEADING_ID}))
    heading = container.children.append(XmlElement("heading", HEADING_PROPS))
    text = heading.children.append(XmlText())
    offset = 0  # pycrdt text offsets are UTF-8 bytes
    for run, marks in HEADING_RUNS:
        text.insert(offset, run, marks)
        offset += len(run.encode("utf-8"))
    container = group.children.append(XmlElement("blockContainer", {"id": TODO_ID}))
    item = container.children.append(XmlElement("checkListItem", TODO_PROPS))
    item.children.append(XmlText()).insert(0, TODO_TEXT)
    return doc.get_update()


def written_by_suite_ai() -> bytes:
    """The same document through the service's writer (suite_ai.blocknote, on pycrdt)."""
    heading = bn.make_block(
        "heading",
        [
            bn.StyledText("Titre "),
            bn.StyledText("en gras", {"bold": True}),
            bn.StyledText(" et "),
            bn.Link(HREF, [bn.StyledText("un lien")]),
        ],
        id=HEADING_ID,
        schema=bn.BLOCKNOTE_SCHEMA,
        **HEADING_PROPS,
    )
    item = bn.make_block(
        "checkListItem", [bn.StyledText(TODO_TEXT)], id=TODO_ID, schema=bn.BLOCKNOTE_SCHEMA, **TODO_PROPS
    )
    return bn.new_document_update([heading, item], schema=bn.BLOCKNOTE_SCHEMA)


WRITERS: dict[str, Callable[[], bytes]] = {"pycrdt": written_with_pycrdt, "suite_ai.blocknote": written_by_suite_ai}


@pytest.fixture(params=list(WRITERS))
def update(request: pytest.FixtureRequest) -> bytes:
    return WRITERS[request.param]()


def test_yjs_holds_every_attribute_whole_and_typed_and_every_mark(node: NodeHarness, update: bytes) -> None:
    assert node.merge([update], schema="blocknote")["xml"] == [EXPECTED_XML]


def test_blocknote_reads_ids_props_and_marks_as_written(node: NodeHarness, update: bytes) -> None:
    shown = node.to_blocks(update, schema="blocknote")
    assert not shown["mutated"]  # y-prosemirror rewrites (for everyone) what it cannot read
    heading, item = shown["blocks"]

    assert (heading["id"], item["id"]) == (HEADING_ID, TODO_ID)  # y-py: the last character only
    assert (heading["type"], item["type"]) == ("heading", "checkListItem")
    assert {name: heading["props"].get(name) for name in HEADING_PROPS} == HEADING_PROPS
    assert {name: item["props"].get(name) for name in TODO_PROPS} == TODO_PROPS
    # == alone would accept "3"/3.0 for 3 and 1 for True: the types are the point.
    assert type(heading["props"]["level"]) is int
    assert heading["props"]["isToggleable"] is False  # y-py's "false" read as "e": a truthy toggle
    assert item["props"]["checked"] is True

    assert heading["content"] == [
        {"type": "text", "text": "Titre ", "styles": {}},
        {"type": "text", "text": "en gras", "styles": {"bold": True}},
        {"type": "text", "text": " et ", "styles": {}},
        {"type": "link", "href": HREF, "content": [{"type": "text", "text": "un lien", "styles": {}}]},
    ]
    assert item["content"] == [{"type": "text", "text": TODO_TEXT, "styles": {}}]


def test_pycrdt_reads_what_blocknote_writes(node: NodeHarness) -> None:
    """The other half y-py lacked: its XmlText had no way to return formatting."""
    blocks = node.to_blocks(written_with_pycrdt(), schema="blocknote")["blocks"]
    doc = Doc()
    doc.apply_update(node.to_ydoc(blocks, schema="blocknote"))
    (group,) = doc.get(bn.FRAGMENT_NAME, type=XmlFragment).children
    assert isinstance(group, XmlElement)
    containers = list(group.children)
    assert [dict(c.attributes) for c in containers if isinstance(c, XmlElement)] == [
        {"id": HEADING_ID},
        {"id": TODO_ID},
    ]
    (heading,) = containers[0].children
    (item,) = containers[1].children
    assert isinstance(heading, XmlElement) and isinstance(item, XmlElement)
    assert (heading.tag, item.tag) == ("heading", "checkListItem")

    heading_attrs = dict(heading.attributes)
    assert {name: heading_attrs.get(name) for name in HEADING_PROPS} == HEADING_PROPS
    # Yjs numbers arrive as floats; what matters is a number, not the string y-py would have needed.
    assert isinstance(heading_attrs["level"], int | float) and not isinstance(heading_attrs["level"], bool)
    assert heading_attrs["isToggleable"] is False
    assert dict(item.attributes)["checked"] is True

    (text,) = heading.children
    assert isinstance(text, XmlText)
    assert text.diff() == HEADING_RUNS
    (todo_text,) = item.children
    assert isinstance(todo_text, XmlText)
    assert todo_text.diff() == [(TODO_TEXT, None)]
