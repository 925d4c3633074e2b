"""Documents written by Python render in the real BlockNote, and the reverse (0.51.4, 0.54.x and 0.55.0)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from pycrdt import Doc, XmlElement, XmlFragment, XmlText, merge_updates

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


@pytest.mark.parametrize("name", NAMES)
def test_python_writes_the_tree_blocknote_writes(node: NodeHarness, name: str) -> None:
    """Node for node, attribute for attribute, mark for mark: what ``blocksToYDoc`` writes."""
    blocks = CORPUS[name]()
    assert node.xml(bn.new_document_update(blocks)) == node.xml(node.to_ydoc(_expected(blocks)))


@settings(max_examples=35, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=documents())
def test_random_trees_python_yjs_blocknote_json_are_equal(node: NodeHarness, blocks: list[bn.Block]) -> None:
    expected = _expected(blocks)
    update = bn.new_document_update(blocks)
    shown = node.to_blocks(update)
    assert shown["blocks"] == expected
    assert not shown["mutated"]
    assert node.xml(update) == node.xml(node.to_ydoc(expected))


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks=documents())
def test_random_trees_written_by_blocknote_decode_in_python(node: NodeHarness, blocks: list[bn.Block]) -> None:
    expected = _expected(blocks)
    assert bn.blocks_to_json(bn.read_update(node.to_ydoc(expected)).blocks) == expected


def test_incremental_edits_render_in_blocknote(node: NodeHarness) -> None:
    child = li("enfant")
    base = [h(1, "Rapport"), p("Introduction", children=[child]), p("Conclusion")]
    edits: list[Callable[[bytes], bn.EditResult]] = [
        lambda state: bn.insert_blocks_update(state, [p(t("Résumé IA", bold=True), " 🚀")]),
        lambda state: bn.insert_blocks_update(state, [li("après l'enfant")], after=child.id),
        lambda state: bn.append_children_update(state, base[2].id, [li("détail")]),
        lambda state: bn.replace_blocks_update(state, base[0].id, None, [h(2, "Nouveau titre")]),
    ]
    updates = [bn.new_document_update(base)]
    for edit in edits:  # each edit is made on the state the previous ones left
        updates.append(edit(merge_updates(*updates)).update)
    merged = node.merge(updates)
    assert not any(merged["pending"])
    assert merged["read"]["blocks"] == bn.blocks_to_json(bn.read_update(merge_updates(*updates)).blocks)
    assert not merged["read"]["mutated"]
    assert [b["content"][0]["text"] for b in merged["read"]["blocks"]] == [
        "Nouveau titre",
        "Introduction",
        "Conclusion",
        "Résumé IA",
    ]


NOTE_MARKDOWN = """# Synthèse de la réunion

## Décisions

**Budget** validé, *calendrier* ~~reporté~~ maintenu, `code` et <u>souligné</u>, [circulaire](https://www.legifrance.gouv.fr/).

### Actions

- Point principal
  - Sous-point
1. Première étape
2. Deuxième étape

- [x] Fait
- [ ] À faire

| Indicateur | Valeur |
|---|---:|
| Dossiers | 42 |

```python
print("ok")
```
"""


def _outline(blocks: list[dict]) -> list[tuple]:
    """What a reader sees of each block: type, level/checked/language, text with marks and links, children."""
    out: list[tuple] = []
    for block in blocks:
        props = {k: v for k, v in block["props"].items() if k in ("level", "checked", "language", "start")}
        content = block.get("content")
        if isinstance(content, dict):  # a table: cell texts, header rows, column alignment
            text: object = (
                [[_runs(cell["content"]) for cell in row["cells"]] for row in content["rows"]],
                content.get("headerRows"),
                [cell["props"]["textAlignment"] for cell in content["rows"][0]["cells"]],
            )
        else:
            text = _runs(content or [])
        out.append((block["type"], props, text, _outline(block.get("children", []))))
    return out


def _runs(content: list[dict]) -> list[tuple]:
    return [
        (item["text"], item["styles"], None)
        if item["type"] == "text"
        else ("".join(run["text"] for run in item["content"]), item["content"][0]["styles"], item["href"])
        for item in content
    ]


def test_a_note_written_from_markdown_renders_as_blocknote_reads_that_markdown(node: NodeHarness) -> None:
    """The note path (model markdown → our Yjs → the editor) against BlockNote's own markdown import."""
    update = bn.markdown_to_update(NOTE_MARKDOWN)
    shown = node.to_blocks(update)
    assert not shown["mutated"] and shown["update"] == update
    ours = _outline(shown["blocks"])
    theirs = _outline(node.call("markdown_to_blocks", schema="docs", markdown=NOTE_MARKDOWN)["blocks"])
    # BlockNote's markdown import drops GFM column alignment (every cell "left"); the note keeps it.
    table = next(i for i, block in enumerate(ours) if block[0] == "table")
    assert ours[table][2][2] == ["left", "right"] and theirs[table][2][2] == ["left", "left"]
    theirs[table] = (*theirs[table][:2], (*theirs[table][2][:2], ["left", "right"]), theirs[table][3])
    assert ours == theirs
    # Spelled out, for when both sides change together.
    assert [(b[0], b[1].get("level")) for b in ours[:4]] == [
        ("heading", 1),
        ("heading", 2),
        ("paragraph", None),
        ("heading", 3),
    ]
    marks = {text: (styles, href) for text, styles, href in ours[2][2]}
    assert marks["Budget"] == ({"bold": True}, None) and marks["calendrier"] == ({"italic": True}, None)
    assert marks["reporté"] == ({"strike": True}, None) and marks["code"] == ({"code": True}, None)
    assert marks["souligné"] == ({"underline": True}, None)
    assert marks["circulaire"] == ({}, "https://www.legifrance.gouv.fr/")
    assert [(b[0], b[2][0][0], len(b[3])) for b in ours[4:7]] == [
        ("bulletListItem", "Point principal", 1),
        ("numberedListItem", "Première étape", 0),
        ("numberedListItem", "Deuxième étape", 0),
    ]
    assert ours[4][3][0][:3] == ("bulletListItem", {}, [("Sous-point", {}, None)])
    assert [(b[0], b[1]) for b in ours[7:9]] == [
        ("checkListItem", {"checked": True}),
        ("checkListItem", {"checked": False}),
    ]
    assert ours[9][2][:2] == (
        [[[("Indicateur", {}, None)], [("Valeur", {}, None)]], [[("Dossiers", {}, None)], [("42", {}, None)]]],
        1,
    )
    assert ours[10][:3] == ("codeBlock", {"language": "python"}, [('print("ok")', {}, None)])


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
