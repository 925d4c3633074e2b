"""Documents written by Python render in the real BlockNote, and the reverse (0.54.x and 0.55.x)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

import suite_ai.blocknote as bn
from tests.blocknote.corpus import CORPUS, DOCS_ONLY, h, li, p, t
from tests.blocknote.strategies import documents
from tests.interop.harness import NodeHarness

pytestmark = pytest.mark.interop

NAMES = sorted(CORPUS)


def _expected(blocks: list[bn.Block]) -> list[dict]:
    return bn.blocks_to_json([bn.normalize_block(b) for b in blocks])


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30


@pytest.mark.parametrize("name", NAMES)
def test_python_documents_render_as_meant_and_loading_mutates_nothing(node: NodeHarness, name: str) -> None:
    blocks = CORPUS[name]()
    update = bn.new_document_update(blocks)
    expected = _expected(blocks)
    schemas = ["docs"] if name in DOCS_ONLY else ["docs", "blocknote"]
    for schema in schemas:
        shown = node.to_blocks(update, schema=schema)
        assert shown["blocks"] == expected
        assert not shown["mutated"]
        assert shown["update"] == update  # the Yjs state is byte-for-byte what we wrote
    assert bn.blocks_to_json(bn.read_update(update).blocks) == expected


@pytest.mark.parametrize("name", NAMES)
def test_blocknote_documents_decode_in_python(node: NodeHarness, name: str) -> None:
    expected = _expected(CORPUS[name]())
    update = node.to_ydoc(expected)
    ours = bn.read_update(update)
    assert ours.anomalies == []
    assert bn.blocks_to_json(ours.blocks) == expected
    assert node.to_blocks(update)["blocks"] == expected


@settings(max_examples=35, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=documents())
def test_random_trees_python_yjs_blocknote_json_are_equal(node: NodeHarness, blocks: list[bn.Block]) -> None:
    expected = _expected(blocks)
    shown = node.to_blocks(bn.new_document_update(blocks))
    assert shown["blocks"] == expected
    assert not shown["mutated"]


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=documents())
def test_random_trees_written_by_blocknote_decode_in_python(node: NodeHarness, blocks: list[bn.Block]) -> None:
    expected = _expected(blocks)
    assert bn.blocks_to_json(bn.read_update(node.to_ydoc(expected)).blocks) == expected


def test_incremental_edits_render_in_blocknote(node: NodeHarness) -> None:
    child = li("enfant")
    base = [h(1, "Rapport"), p("Introduction", children=[child]), p("Conclusion")]
    document = bn.BlockNoteDocument.from_update(bn.new_document_update(base))
    updates = [document.update()]
    updates.append(document.insert_blocks([p(t("Résumé IA", bold=True), " 🚀")]).update)
    updates.append(document.insert_blocks([li("après l'enfant")], after=child.id).update)
    updates.append(document.append_children(base[2].id, [li("détail")]).update)
    updates.append(document.replace_blocks(base[0].id, None, [h(2, "Nouveau titre")]).update)
    merged = node.merge(updates)
    assert not any(merged["pending"])
    assert merged["read"]["blocks"] == bn.blocks_to_json(document.blocks)
    assert not merged["read"]["mutated"]
    assert [b["content"][0]["text"] for b in merged["read"]["blocks"]] == [
        "Nouveau titre",
        "Introduction",
        "Conclusion",
        "Résumé IA",
    ]


def test_markdown_from_the_model_renders_as_parsed(node: NodeHarness) -> None:
    markdown = (
        "## Synthèse\n\n**Décision** : lancer l'appel d'offres.\n\n- point 1\n  - détail\n- [x] fait\n\n"
        "| A | B |\n|---|:-:|\n| 1 | 2 |\n\n> citation\n\n```sql\nSELECT 1;\n```\n"
    )
    blocks = bn.markdown_to_blocks(markdown)
    shown = node.to_blocks(bn.new_document_update(blocks))
    assert bn.read_update(bn.markdown_to_update(markdown)).blocks[0].plain_text() == "Synthèse"
    assert shown["blocks"] == _expected(blocks)
    assert not shown["mutated"]


def _raw(build) -> bytes:
    doc: Doc = Doc()
    with doc.transaction():
        build(doc.get("document-store", type=XmlFragment))
    return doc.get_update()


def test_two_root_block_groups_read_as_the_editor_shows_them(node: NodeHarness) -> None:
    doc: Doc = Doc()
    doc.apply_update(bn.new_document_update([p("premier écrivain")]))
    doc.apply_update(bn.new_document_update([p("second écrivain"), p("caché")]))
    update = doc.get_update()
    shown = node.to_blocks(update)
    ours = bn.read_update(update)
    assert bn.blocks_to_json(ours.blocks) == shown["blocks"]
    assert not shown["mutated"]
    assert [a.code for a in ours.anomalies] == ["multiple_root_block_groups"]


def test_older_layout_matches_blocknote_after_its_colour_migration(node: NodeHarness) -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        container = group.children.append(
            XmlElement("blockContainer", {"id": "old", "textColor": "red", "backgroundColor": "default"})
        )
        heading = container.children.append(XmlElement("heading", {"textAlignment": "center", "level": 2}))
        heading.children.append(XmlText()).insert(0, "Hello", {"italic": {}})

    update = _raw(build)
    shown = node.to_blocks(update)
    assert not shown["mutated"]
    (server_side,) = shown["blocks"]
    # Server-side yDocToBlocks ignores container props; the live editor's SchemaMigration
    # (moveColorAttributes) moves non-default colours onto the block, which is what we read.
    assert server_side["props"]["textColor"] == "default"
    ours = bn.blocks_to_json(bn.read_update(update).blocks)
    assert ours == [{**server_side, "props": {**server_side["props"], "textColor": "red"}}]


def test_unknown_nodes_are_deleted_by_the_editor_so_we_never_write_them(node: NodeHarness) -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        for block_id, tag in (("a", "paragraph"), ("b", "mermaid"), ("c", "paragraph")):
            group.children.append(XmlElement("blockContainer", {"id": block_id})).children.append(XmlElement(tag))

    update = _raw(build)
    shown = node.to_blocks(update, schema="blocknote")
    assert shown["mutated"]  # y-prosemirror deleted the unknown block from the shared document
    assert [b["id"] for b in shown["blocks"]] == ["a", "c"]
    assert [b.id for b in bn.read_update(update).blocks] == ["a", "b", "c"]  # we keep and flag it
    with pytest.raises(bn.UnknownBlockTypeError):
        bn.new_document_update(bn.read_update(update).blocks)
    # Docs' own blocks are such unknown nodes for a plain BlockNote editor.
    callout = bn.new_document_update(CORPUS["callout"]())
    assert node.to_blocks(callout, schema="blocknote")["mutated"]
    assert not node.to_blocks(callout, schema="docs")["mutated"]


def test_comment_marks_are_ignored_like_blocknote_does(node: NodeHarness) -> None:
    def build(fragment: XmlFragment) -> None:
        group = fragment.children.append(XmlElement("blockGroup"))
        paragraph = group.children.append(XmlElement("blockContainer", {"id": "p"})).children.append(
            XmlElement("paragraph", {"textColor": "default", "backgroundColor": "default", "textAlignment": "left"})
        )
        text = paragraph.children.append(XmlText())
        text.insert(0, "avant ")
        text.insert(6, "commenté", {"comment--AbCd1234": {"threadId": "t1", "orphan": False}, "bold": {}})

    update = _raw(build)
    shown = node.to_blocks(update, schema="docs")
    assert not shown["mutated"]
    assert bn.blocks_to_json(bn.read_update(update).blocks) == shown["blocks"]
