"""Reading and writing BlockNote documents in Yjs with pycrdt (no Node here; see tests/interop)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, XmlElement, XmlFragment, XmlText, merge_updates

import suite_ai.blocknote as bn
from suite_ai.blocknote.yjs.encoder import StructEncoder, decode_state_vector
from tests.blocknote.corpus import CORPUS, a, cell, code, h, li, link_to_doc, ol, p, t, table, todo
from tests.blocknote.strategies import documents


def _expected(blocks: list[bn.Block]) -> list[dict]:
    return bn.blocks_to_json([bn.normalize_block(block) for block in blocks])


def _tree(element: XmlElement | XmlFragment) -> list:
    """Tags, attributes and text deltas: a canonical form to compare documents."""
    out = []
    for child in element.children:
        if isinstance(child, XmlText):
            out.append(("#text", child.diff()))
        else:
            out.append((child.tag, sorted(dict(child.attributes).items()), _tree(child)))
    return out


def _fragment(update: bytes) -> XmlFragment:
    doc: Doc = Doc()
    doc.apply_update(update)
    return doc.get("document-store", type=XmlFragment)


# --- writing ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_round_trips_through_yjs(name: str) -> None:
    blocks = CORPUS[name]()
    update = bn.new_document_update(blocks)
    result = bn.read_update(update)
    assert result.anomalies == []
    assert bn.blocks_to_json(result.blocks) == _expected(blocks)


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents())
def test_random_trees_round_trip(blocks: list[bn.Block]) -> None:
    update = bn.new_document_update(blocks)
    result = bn.read_update(update)
    assert result.anomalies == []
    assert bn.blocks_to_json(result.blocks) == _expected(blocks)


def test_one_root_block_group_and_uuid4_ids() -> None:
    blocks = [h(1, "Titre"), p("a", children=[p("b")])]
    fragment = _fragment(bn.new_document_update(blocks))
    assert [child.tag for child in fragment.children] == ["blockGroup"]
    group = fragment.children[0]
    ids = [container.attributes["id"] for container in group.children]
    assert ids == [blocks[0].id, blocks[1].id]
    for block in bn.iter_blocks(bn.read_update(bn.new_document_update(blocks)).blocks):
        assert uuid.UUID(block.id).version == 4


def test_attribute_values_have_their_json_types() -> None:
    blocks = [
        h(2, "Titre", isToggleable=False),
        todo(True, "fait"),
        todo(False, "à faire"),
        ol("quatre", start=4),
        bn.make_block("image", url="https://example.org/i.png", previewWidth=320),
        table([[cell("a", colspan=2)], [cell("b"), cell("c")]], widths=[100, None]),
    ]
    group = _fragment(bn.new_document_update(blocks)).children[0]
    nodes = [container.children[0] for container in group.children]
    heading = dict(nodes[0].attributes)
    assert heading["level"] == 2 and not isinstance(heading["level"], str | bool)
    assert heading["isToggleable"] is False
    assert dict(nodes[1].attributes)["checked"] is True
    assert dict(nodes[2].attributes)["checked"] is False
    assert dict(nodes[3].attributes)["start"] == 4
    assert dict(nodes[4].attributes)["previewWidth"] == 320
    first_cell = dict(nodes[5].children[0].children[0].attributes)
    assert first_cell["colspan"] == 2 and first_cell["rowspan"] == 1
    assert first_cell["colwidth"] == [100, None]
    # props whose default is JS undefined are not written at all
    assert "start" not in dict(group.children[3].children[0].attributes) or dict(nodes[3].attributes)["start"] == 4
    assert "previewWidth" not in dict(
        _fragment(bn.new_document_update([bn.make_block("image")])).children[0].children[0].children[0].attributes
    )


def test_marks_are_objects_and_offsets_are_utf8_bytes() -> None:
    block = p("Résumé 🚀 ", t("gras", bold=True), " ", a("https://ex.org", "lien"), t(" rouge", textColor="red"))
    paragraph = _fragment(bn.new_document_update([block])).children[0].children[0].children[0]
    (text,) = list(paragraph.children)
    assert text.diff() == [
        ("Résumé 🚀 ", None),
        ("gras", {"bold": {}}),
        (" ", None),
        ("lien", {"link": {"href": "https://ex.org"}}),
        (" rouge", {"textColor": {"stringValue": "red"}}),
    ]
    assert len(text) == len("Résumé 🚀 gras lien rouge".encode())


def test_hard_breaks_are_elements_except_in_code() -> None:
    blocks = [p("ligne 1\nligne 2"), code("a\nb", "python")]
    group = _fragment(bn.new_document_update(blocks)).children[0]
    paragraph = group.children[0].children[0]
    assert [c.tag if isinstance(c, XmlElement) else str(c) for c in paragraph.children] == [
        "ligne 1",
        "hardBreak",
        "ligne 2",
    ]
    code_node = group.children[1].children[0]
    assert [str(c) for c in code_node.children] == ["a\nb"]


def test_empty_blocks_have_no_text_node() -> None:
    group = _fragment(bn.new_document_update([p(), h(2), li()])).children[0]
    assert all(len(container.children[0].children) == 0 for container in group.children)


def test_an_empty_block_list_makes_a_document_with_one_empty_paragraph() -> None:
    blocks = bn.read_update(bn.new_document_update([])).blocks
    assert [(b.type, b.content) for b in blocks] == [("paragraph", [])]


def test_docs_blocks_are_written_with_their_props() -> None:
    blocks = CORPUS["docs_blocks"]() + CORPUS["callout"]() + CORPUS["interlinking"]()
    read = bn.read_update(bn.new_document_update(blocks)).blocks
    assert bn.blocks_to_json(read) == _expected(blocks)
    assert read[0].props["previewWidth"] == 600 and read[0].props["showPreview"] is True
    assert read[1].props["type"] == "loading"
    assert read[4].props["emoji"] == "💡"
    inline = read[-2].content[1]
    assert isinstance(inline, bn.InlineNode)
    assert inline.props == {
        "docId": "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
        "disabled": False,
        "trigger": "/",
        "title": "Procédure d'achat",
    }
    interlink = link_to_doc("x", "y")
    with pytest.raises(bn.InvalidInlineContentError):  # not part of plain BlockNote's schema
        bn.new_document_update([p(interlink)], schema=bn.BLOCKNOTE_SCHEMA)


# --- reading documents that are odd -------------------------------------------------------------------


def _raw_doc(build) -> bytes:
    doc: Doc = Doc()
    with doc.transaction():
        build(doc.get("document-store", type=XmlFragment))
    return doc.get_update()


def test_empty_update_reads_as_an_empty_document() -> None:
    result = bn.read_update(b"\x00\x00")
    assert result.blocks == []
    assert [anomaly.code for anomaly in result.anomalies] == ["empty_document"]


def test_fragment_without_block_group_is_empty() -> None:
    doc: Doc = Doc()
    doc.get("document-store", type=XmlFragment)  # declared, never written: not in the update
    assert bn.read_update(doc.get_update()).blocks == []


def test_blocks_without_text_nodes_and_without_props() -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        group.children.append(XmlElement("blockContainer", {"id": "a"})).children.append(XmlElement("paragraph"))
        group.children.append(XmlElement("blockContainer", {"id": "b"})).children.append(
            XmlElement("heading", {"level": 3})
        )

    result = bn.read_update(_raw_doc(build))
    assert result.anomalies == []
    assert bn.blocks_to_json(result.blocks) == [
        {
            "id": "a",
            "type": "paragraph",
            "props": {"backgroundColor": "default", "textColor": "default", "textAlignment": "left"},
            "content": [],
            "children": [],
        },
        {
            "id": "b",
            "type": "heading",
            "props": {
                "backgroundColor": "default",
                "textColor": "default",
                "textAlignment": "left",
                "level": 3,
                "isToggleable": False,
            },
            "content": [],
            "children": [],
        },
    ]


def test_older_layout_with_colours_on_block_container() -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        container = group.children.append(
            XmlElement(
                "blockContainer",
                {"id": "old", "textColor": "red", "backgroundColor": "default", "textAlignment": "center"},
            )
        )
        heading = container.children.append(XmlElement("heading", {"level": 2}))
        heading.children.append(XmlText()).insert(0, "Hello", {"italic": {}})
        group.children.append(
            XmlElement("blockContainer", {"id": "plain", "textColor": "default", "backgroundColor": "default"})
        ).children.append(XmlElement("paragraph", {"textAlignment": "right"}))

    result = bn.read_update(_raw_doc(build))
    heading, paragraph = result.blocks
    assert heading.props == {
        "backgroundColor": "default",
        "textColor": "red",
        "textAlignment": "center",
        "level": 2,
        "isToggleable": False,
    }
    assert heading.content == [bn.StyledText("Hello", {"italic": True})]
    assert paragraph.props["textAlignment"] == "right"
    assert paragraph.props["textColor"] == "default"
    assert [(x.code, x.block_id) for x in result.anomalies] == [
        ("legacy_block_container_props", "old"),
        ("legacy_block_container_props", "plain"),
    ]


def test_two_root_block_groups_read_the_first_and_report_the_rest() -> None:
    first = bn.new_document_update([p("premier écrivain")])
    second = bn.new_document_update([p("second écrivain"), p("invisible")])
    doc: Doc = Doc()
    doc.apply_update(first)
    doc.apply_update(second)
    fragment = doc.get("document-store", type=XmlFragment)
    assert len(fragment.children) == 2
    shown = [
        "".join(str(t) for t in fragment.children[0].children[i].children[0].children)
        for i in range(len(fragment.children[0].children))
    ]
    result = bn.read_doc(doc)
    assert [b.plain_text() for b in result.blocks] == shown
    (anomaly,) = result.anomalies
    assert anomaly.code == "multiple_root_block_groups"
    hidden = 3 - len(shown)
    assert f"{hidden} top-level block(s)" in anomaly.message


def test_wrong_attribute_types_are_read_as_stored_and_reported() -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        group.children.append(XmlElement("blockContainer", {"id": "y"})).children.append(
            XmlElement("checkListItem", {"checked": "false", "textColor": "t"})
        )

    result = bn.read_update(_raw_doc(build))
    assert result.blocks[0].props["checked"] == "false"
    assert [x.code for x in result.anomalies] == ["invalid_prop_value"]
    with pytest.raises(bn.InvalidBlockPropsError):
        bn.new_document_update(result.blocks)


def test_unknown_nodes_are_kept_and_flagged() -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        group.children.append(XmlElement("blockContainer", {"id": "m"})).children.append(
            XmlElement("mermaid", {"source": "graph TD"})
        )
        columns = group.children.append(XmlElement("columnList", {"id": "cols"}))
        column = columns.children.append(XmlElement("column", {"id": "col1", "width": 1}))
        inner = column.children.append(XmlElement("blockContainer", {"id": "inner"}))
        inner.children.append(XmlElement("paragraph")).children.append(XmlText()).insert(0, "dans la colonne")
        paragraph = group.children.append(XmlElement("blockContainer", {"id": "p"})).children.append(
            XmlElement("paragraph")
        )
        text = paragraph.children.append(XmlText())
        text.insert(0, "avant ")
        text.insert(6, "commenté", {"comment--AbCd1234": {"threadId": "t1"}, "bold": {}})
        text.insert(len("avant commenté".encode()), " inconnu", {"sparkle": {}})
        paragraph.children.append(XmlElement("mention", {"user": "u"}))

    result = bn.read_update(_raw_doc(build))
    types = [b.type for b in result.blocks]
    assert types == ["mermaid", "columnList", "paragraph"]
    assert result.blocks[0].props == {"source": "graph TD"}
    assert result.blocks[1].children[0].id == "col1"
    assert result.blocks[1].children[0].children[0].plain_text() == "dans la colonne"
    assert result.blocks[2].content == [
        bn.StyledText("avant ", {}),
        bn.StyledText("commenté", {"bold": True}),
        bn.StyledText(" inconnu", {}),
    ]
    codes = [x.code for x in result.anomalies]
    assert codes.count("unknown_block_type") == 3 and "unknown_mark" in codes and "unknown_inline_node" in codes
    assert "comment" not in " ".join(x.message for x in result.anomalies)
    with pytest.raises(bn.UnknownBlockTypeError):
        bn.new_document_update(result.blocks)


# --- editing ---------------------------------------------------------------------------------------------


def _edited(state: bytes, *results: bn.EditResult) -> bytes:
    """The state once the edits' updates are merged in (what every replica ends up holding)."""
    return merge_updates(state, *(result.update for result in results))


def _texts(update: bytes) -> list[str]:
    return [block.plain_text() for block in bn.read_update(update).blocks]


def test_insert_at_end_returns_only_the_increment() -> None:
    big = bn.new_document_update([h(1, "Rapport")] + [p(f"Texte existant {i}") for i in range(300)])
    big_increment = bn.insert_blocks_update(big, [p(t("Résumé IA :", bold=True)), li("un")])
    base = [h(1, "Rapport"), p("Texte existant " * 50)]
    update = bn.new_document_update(base)
    result = bn.insert_blocks_update(update, [p(t("Résumé IA :", bold=True), " trois points 🚀"), li("un")])
    # The increment carries none of the document, so its size does not depend on the document's.
    assert b"Texte existant" not in result.update and b"Texte existant" not in big_increment.update
    assert len(big) > 20_000 and abs(len(big_increment.update) - len(result.update)) < 100
    replica: Doc = Doc()
    replica.apply_update(update)
    before = decode_state_vector(replica.get_state())
    replica.apply_update(result.update)
    after = decode_state_vector(replica.get_state())
    (editor,) = set(after) - set(before)  # one new client; nobody else's items touched
    assert {client: clock for client, clock in after.items() if client != editor} == before
    texts = [b.plain_text() for b in bn.read_doc(replica).blocks]
    assert texts == ["Rapport", "Texte existant " * 50, "Résumé IA : trois points 🚀", "un"]
    assert [child.tag for child in replica.get("document-store", type=XmlFragment).children] == ["blockGroup"]
    assert result.block_ids == [b.id for b in bn.read_doc(replica).blocks[2:]]
    assert not set(result.block_ids) & {b.id for b in base}
    assert bn.decode_base64_update(result.update_base64) == result.update


def test_insert_after_a_nested_block_and_keep_ids() -> None:
    child = li("enfant 1")
    base = [p("parent", children=[child, li("enfant 2")]), p("fin")]
    update = bn.new_document_update(base)
    new = li("inséré")
    result = bn.insert_blocks_update(update, [new], after=child.id, keep_ids=True)
    assert result.block_ids == [new.id]
    blocks = bn.read_update(_edited(update, result)).blocks
    assert [c.plain_text() for c in blocks[0].children] == ["enfant 1", "inséré", "enfant 2"]
    assert blocks[0].children[1].id == new.id
    assert [b.plain_text() for b in blocks] == ["parent", "fin"]


def test_insert_gives_fresh_ids_unless_asked_to_keep_them() -> None:
    update = bn.new_document_update([p("a")])
    block = p("b")
    result = bn.insert_blocks_update(update, [block])
    assert result.block_ids != [block.id]
    assert [b.id for b in bn.read_update(_edited(update, result)).blocks][1:] == result.block_ids


def test_replace_a_range_of_blocks() -> None:
    base = [p("a"), p("b", children=[li("b1")]), p("c"), p("d")]
    update = bn.new_document_update(base)
    result = bn.replace_blocks_update(update, base[1].id, base[2].id, [h(2, "nouveau"), p("texte")])
    blocks = bn.read_update(_edited(update, result)).blocks
    assert [b.plain_text() for b in blocks] == ["a", "nouveau", "texte", "d"]
    assert [b.type for b in blocks] == ["paragraph", "heading", "paragraph", "paragraph"]
    assert all(not b.children for b in blocks)  # b's child went with it
    assert result.block_ids == [b.id for b in blocks[1:3]]


def test_replace_one_block_when_last_id_is_none() -> None:
    base = [p("a"), p("b")]
    update = bn.new_document_update(base)
    result = bn.replace_blocks_update(update, base[0].id, None, [p("A")])
    assert _texts(_edited(update, result)) == ["A", "b"]


def test_replace_everything_with_nothing_leaves_an_empty_paragraph() -> None:
    base = [p("a"), p("b")]
    update = bn.new_document_update(base)
    result = bn.replace_blocks_update(update, base[0].id, base[1].id, [])
    assert [(b.type, b.content) for b in bn.read_update(_edited(update, result)).blocks] == [("paragraph", [])]


def test_replace_all_children_with_nothing_removes_the_child_group() -> None:
    children = [li("x"), li("y")]
    base = [p("parent", children=children)]
    update = bn.new_document_update(base)
    edited = _edited(update, bn.replace_blocks_update(update, children[0].id, children[1].id, []))
    doc = bn.load_doc(edited)
    container = doc.get("document-store", type=XmlFragment).children[0].children[0]
    assert [c.tag for c in container.children] == ["paragraph"]
    assert bn.read_doc(doc).blocks[0].children == []


def test_append_children_creates_the_group_after_the_content_node() -> None:
    base = [p("parent"), p("autre", children=[li("déjà")])]
    update = bn.new_document_update(base)
    state = _edited(update, bn.append_children_update(update, base[0].id, [li("nouvel enfant")]))
    state = _edited(state, bn.append_children_update(state, base[1].id, [li("second")]))
    doc = bn.load_doc(state)
    group = doc.get("document-store", type=XmlFragment).children[0]
    assert [c.tag for c in group.children[0].children] == ["paragraph", "blockGroup"]
    blocks = bn.read_doc(doc).blocks
    assert [c.plain_text() for c in blocks[0].children] == ["nouvel enfant"]
    assert [c.plain_text() for c in blocks[1].children] == ["déjà", "second"]


def test_edits_on_an_empty_document_create_exactly_one_root_group() -> None:
    empty = b"\x00\x00"
    first = bn.insert_blocks_update(empty, [p("premier")])
    state = _edited(empty, first)
    state = _edited(state, bn.insert_blocks_update(state, [p("second")]))
    fragment = bn.load_doc(state).get("document-store", type=XmlFragment)
    assert [c.tag for c in fragment.children] == ["blockGroup"]
    assert _texts(state) == ["premier", "second"]
    assert _texts(first.update) == ["premier"]
    assert bn.insert_blocks_update(empty, []).update == empty


def test_edits_never_add_a_second_root_group_to_a_split_document() -> None:
    doc: Doc = Doc()
    doc.apply_update(bn.new_document_update([p("un")]))
    doc.apply_update(bn.new_document_update([p("deux")]))
    update = doc.get_update()
    result = bn.insert_blocks_update(update, [p("ajout")])
    assert [x.code for x in result.anomalies] == ["multiple_root_block_groups"]
    edited = bn.load_doc(_edited(update, result))
    assert len(edited.get("document-store", type=XmlFragment).children) == 2
    assert bn.read_doc(edited).blocks[-1].plain_text() == "ajout"


def test_edits_and_a_concurrent_edit_compose_in_any_order() -> None:
    update = bn.new_document_update([p("base")])
    first = bn.insert_blocks_update(update, [p("ia 1")])
    remote = bn.insert_blocks_update(update, [p("humain")])  # a collaborator, on the same state
    ours = _edited(update, first, remote)
    second = bn.insert_blocks_update(ours, [p("ia 2")])
    mine: Doc = Doc()
    for part in (update, first.update, remote.update, second.update):
        mine.apply_update(part)
    theirs: Doc = Doc()
    for part in (update, remote.update, second.update, first.update):  # second arrives before first
        theirs.apply_update(part)
    assert bn.blocks_to_json(bn.read_doc(mine).blocks) == bn.blocks_to_json(bn.read_doc(theirs).blocks)
    texts = [b.plain_text() for b in bn.read_doc(mine).blocks]
    assert sorted(texts) == ["base", "humain", "ia 1", "ia 2"] and texts[-1] == "ia 2"


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(documents(), documents(), st.data())
def test_random_inserts_land_where_asked(base: list[bn.Block], new: list[bn.Block], data: st.DataObject) -> None:
    update = bn.new_document_update(base)
    shown = bn.read_update(update).blocks
    position = data.draw(st.integers(0, len(shown)))
    after = shown[position - 1].id if position else None
    if after is None:
        position = len(shown)
    result = bn.insert_blocks_update(update, new, after=after, keep_ids=True)
    expected = [*shown[:position], *(new or []), *shown[position:]]
    assert bn.blocks_to_json(bn.read_update(_edited(update, result)).blocks) == _expected(expected)


# --- robustness and the encoder ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200))
def test_random_bytes_never_crash_the_reader(data: bytes) -> None:
    try:
        result = bn.read_update(data)
    except (bn.InvalidYjsUpdateError, bn.MissingDocumentStoreError):
        return
    bn.blocks_to_json(result.blocks)


_TAGS = st.sampled_from(
    ["blockGroup", "blockContainer", "paragraph", "heading", "table", "tableRow", "tableCell", "tableHeader",
     "tableParagraph", "hardBreak", "interlinkingLinkInline", "codeBlock", "image", "unknown", "column"]
)  # fmt: skip
_SMALL = st.integers(-5, 10)
_VALUES = st.one_of(
    st.booleans(), _SMALL, st.floats(-1e6, 1e6), st.text(max_size=5), st.lists(_SMALL, max_size=3),
    st.dictionaries(st.text(max_size=3), _SMALL, max_size=2),
)  # fmt: skip
_ATTRS = st.dictionaries(
    st.sampled_from(["id", "level", "textColor", "checked", "colspan", "rowspan", "colwidth", "start", "docId"]),
    _VALUES,
    max_size=4,
)
_MARKS = st.dictionaries(
    st.sampled_from(["bold", "link", "textColor", "comment--abcdefgh", "sparkle"]),
    st.one_of(st.just({}), st.dictionaries(st.sampled_from(["href", "stringValue"]), _VALUES, max_size=2), _SMALL),
    max_size=3,
)
_NODES = st.recursive(
    st.tuples(st.just("#text"), st.lists(st.tuples(st.text(min_size=1, max_size=5), _MARKS), max_size=3)),
    lambda children: st.tuples(_TAGS, _ATTRS, st.lists(children, max_size=4)),
    max_leaves=20,
)


def _build(parent: XmlElement | XmlFragment, spec: tuple) -> None:
    if spec[0] == "#text":
        text = parent.children.append(XmlText())
        offset = 0
        for value, marks in spec[1]:
            text.insert(offset, value, dict(marks) or None)
            offset += len(value.encode())
        return
    tag, attrs, children = spec
    element = parent.children.append(XmlElement(tag, attrs))
    for child in children:
        _build(element, child)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(_NODES, max_size=3))
def test_arbitrary_xml_trees_are_read_without_crashing(specs: list[tuple]) -> None:
    doc: Doc = Doc()
    with doc.transaction():
        fragment = doc.get("document-store", type=XmlFragment)
        for spec in specs:
            _build(fragment, spec)
    result = bn.read_update(doc.get_update())
    bn.blocks_to_json(result.blocks)
    bn.blocks_to_markdown(result.blocks)


def test_encoder_values_read_back_with_their_types() -> None:
    values = {
        "small": 7, "negative": -70000, "large": 2**40, "float": 0.1, "true": True, "false": False, "none": None,
        "text": "été 🚀", "list": [1, None, "a"], "object": {"href": "https://ex.org", "n": 2},
    }  # fmt: skip
    encoder = StructEncoder(123456, 0)
    group = encoder.element("blockGroup", parent="document-store")
    encoder.attributes(group, values)
    text = encoder.xml_text(parent=group)
    encoder.text_runs(text, [("a🚀b", {"bold": {}}), ("c", {}), ("d", {"link": {"href": "h"}})])
    doc: Doc = Doc()
    doc.apply_update(encoder.update())
    element = doc.get("document-store", type=XmlFragment).children[0]
    read = dict(element.attributes)
    assert {k: v for k, v in read.items() if k != "none"} == {k: v for k, v in values.items() if k != "none"}
    assert read.get("none") is None
    assert element.children[0].diff() == [("a🚀b", {"bold": {}}), ("c", None), ("d", {"link": {"href": "h"}})]
    assert decode_state_vector(doc.get_state()) == {123456: encoder.clock}
