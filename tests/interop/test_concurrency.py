"""A Python edit and a concurrent human edit (made the editor's way) converge, in every order.

The human edit goes blocks → ProseMirror node → y-prosemirror ``updateYFragment``, exactly what the
editor's sync plugin does on each change. Both edits are made from the same base state, then every
merge order is replayed in Yjs and in pycrdt.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText, merge_updates

import suite_ai.blocknote as bn
from tests.blocknote.corpus import CORPUS, li, p, t
from tests.interop.harness import NodeHarness

pytestmark = pytest.mark.interop

ORDERS = [list(order) for order in itertools.permutations(range(3))]  # base, python, human; out of order too
AI_TEXT = "Résumé IA : trois décisions 🚀"
HUMAN_TEXT = "modifié à la main"


def _tree(element: XmlElement | XmlFragment) -> list:
    out = []
    for child in element.children:
        if isinstance(child, XmlText):
            out.append(("#text", child.diff()))
        else:
            out.append((child.tag, sorted(dict(child.attributes).items()), _tree(child)))
    return out


def _texts(blocks: list[dict]) -> list[str]:
    out: list[str] = []
    for block in blocks:
        content = block.get("content")
        if isinstance(content, list):
            out.append("".join(item.get("text", "") for item in content if item.get("type") == "text"))
        out.extend(_texts(block.get("children", [])))
    return out


PythonEdit = Callable[[bytes, list[bn.Block]], bn.EditResult]

PYTHON_EDITS: dict[str, PythonEdit] = {
    "insert_at_end": lambda state, blocks: bn.insert_blocks_update(state, [p(t(AI_TEXT, bold=True)), li("point 1")]),
    "insert_after_first": lambda state, blocks: bn.insert_blocks_update(state, [p(AI_TEXT)], after=blocks[0].id),
    "replace_last": lambda state, blocks: bn.replace_blocks_update(state, blocks[-1].id, None, [p(AI_TEXT)]),
    "append_children": lambda state, blocks: bn.append_children_update(state, blocks[1].id, [li(AI_TEXT)]),
}


def _human_edits(blocks: list[bn.Block]) -> list[dict]:
    """Rewrite the second block's text with an italic part, and append a block at the end."""
    return [
        {
            "op": "set_content",
            "id": blocks[1].id,
            "content": [
                {"type": "text", "text": "Texte ", "styles": {}},
                {"type": "text", "text": HUMAN_TEXT, "styles": {"italic": True}},
            ],
        },
        {"op": "append", "block": {"type": "paragraph", "content": "Ajout humain à la fin"}},
    ]


def _base(node: NodeHarness, writer: str, name: str) -> tuple[bytes, list[bn.Block]]:
    blocks = [bn.normalize_block(b) for b in CORPUS[name]()]
    update = bn.new_document_update(blocks) if writer == "python" else node.to_ydoc(bn.blocks_to_json(blocks))
    return update, bn.read_update(update).blocks


@pytest.mark.parametrize("edit", sorted(PYTHON_EDITS))
@pytest.mark.parametrize(
    ("writer", "name"),
    [("python", "compte_rendu"), ("blocknote", "note_de_service"), ("blocknote", "quote_toggle"), ("python", "letter")],
)
def test_python_and_human_edits_converge_in_every_order(node: NodeHarness, writer: str, name: str, edit: str) -> None:
    base, blocks = _base(node, writer, name)
    assert len(blocks) >= 3  # the edits touch different blocks: no edit/delete conflict by design
    python_update = PYTHON_EDITS[edit](base, blocks).update
    human_update = node.human_edit(base, _human_edits(blocks))
    updates = [base, python_update, human_update]

    # Yjs: every order, and Y.mergeUpdates, give the same document.
    merged = node.merge(updates, ORDERS)
    assert not any(merged["pending"])
    assert len(set(merged["xml"])) == 1
    assert merged["merged_xml"] == merged["xml"][0]
    assert not merged["read"]["mutated"]
    shown = merged["read"]["blocks"]
    texts = _texts(shown)
    assert any(AI_TEXT in text for text in texts)  # the Python edit is there
    assert "Texte " + HUMAN_TEXT in texts  # the human edit is there
    assert "Ajout humain à la fin" in texts
    assert AI_TEXT in merged["markdown"] and HUMAN_TEXT in merged["markdown"]

    # pycrdt: the same orders converge to the same tree, and it reads as Yjs/BlockNote read it.
    trees = []
    for order in ORDERS:
        doc: Doc = Doc()
        for index in order:
            doc.apply_update(updates[index])
        trees.append(_tree(doc.get("document-store", type=XmlFragment)))
        assert bn.blocks_to_json(bn.read_doc(doc).blocks) == shown
    assert all(tree == trees[0] for tree in trees)
    fragment_roots = [tree for tree in trees[0] if tree[0] == "blockGroup"]
    assert len(fragment_roots) == 1  # never a second root blockGroup


def test_both_appends_at_the_same_position_are_ordered_the_same_everywhere(node: NodeHarness) -> None:
    base, _blocks = _base(node, "blocknote", "single_paragraph")
    python_update = bn.insert_blocks_update(base, [p("IA")]).update
    human_update = node.human_edit(base, [{"op": "append", "block": {"type": "paragraph", "content": "humain"}}])
    merged = node.merge([base, python_update, human_update], ORDERS)
    assert len(set(merged["xml"])) == 1
    order = _texts(merged["read"]["blocks"])
    assert sorted(order[1:]) == ["IA", "humain"]
    for permutation in ORDERS:
        doc: Doc = Doc()
        for index in permutation:
            doc.apply_update([base, python_update, human_update][index])
        assert [b.plain_text() for b in bn.read_doc(doc).blocks] == order


def test_a_python_edit_on_top_of_a_human_edit(node: NodeHarness) -> None:
    """Python edits, a person edits on top of that, Python edits again on the state that holds both."""
    base, blocks = _base(node, "python", "compte_rendu")
    first = bn.insert_blocks_update(base, [p("IA 1")])
    human = node.human_edit(
        merge_updates(base, first.update),
        [{"op": "delete", "id": blocks[0].id}, {"op": "append", "block": {"type": "paragraph", "content": "H"}}],
    )
    state = merge_updates(base, first.update, human)
    second = bn.insert_blocks_update(state, [p("IA 2")], after=blocks[1].id)
    merged = node.merge([base, first.update, human, second.update])
    assert not any(merged["pending"])
    assert merged["read"]["blocks"] == bn.blocks_to_json(bn.read_update(merge_updates(state, second.update)).blocks)
    texts = _texts(merged["read"]["blocks"])
    assert texts[0] == _texts(bn.blocks_to_json([blocks[1]]))[0] and texts[1] == "IA 2"
    assert texts[-2:] == ["IA 1", "H"] or texts[-2:] == ["H", "IA 1"]
