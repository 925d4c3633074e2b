"""Bad input: every problem is a typed error with a stable code, and nothing is half-written."""

from __future__ import annotations

import base64
import re

import pytest
from pycrdt import Doc, Map, XmlElement, XmlFragment

import suite_ai.blocknote as bn
from suite_ai.blocknote import errors
from tests.blocknote.corpus import h, li, p


def _doc_update(blocks: list[bn.Block]) -> bytes:
    return bn.new_document_update(blocks)


def test_every_error_has_a_stable_snake_case_code_and_a_message() -> None:
    codes = {cls.code for cls in errors.ERROR_CLASSES}
    assert len(codes) == len(errors.ERROR_CLASSES)
    for cls in errors.ERROR_CLASSES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", cls.code)
        error = cls("Quelque chose ne va pas.", block_id="b1")
        assert str(error) == "Quelque chose ne va pas."
        assert error.as_dict() == {"code": cls.code, "message": "Quelque chose ne va pas.", "block_id": "b1"}
        assert isinstance(error, bn.BlockNoteError) and isinstance(error, ValueError)
    assert {
        "invalid_base64",
        "invalid_yjs_update",
        "ydoc_too_large",
        "missing_document_store",
        "unknown_block_type",
        "invalid_block_props",
        "unknown_block_id",
        "duplicate_block_id",
        "invalid_inline_content",
        "invalid_blocks",
        "invalid_edit",
    } <= codes


@pytest.mark.parametrize("data", ["pas du base64 !", "AAA", "QUJD\nRA==x", "é", b"\xff\xfe", 42])
def test_invalid_base64(data: object) -> None:
    with pytest.raises(bn.InvalidBase64Error) as caught:
        bn.decode_base64_update(data)  # type: ignore[arg-type]
    assert caught.value.code == "invalid_base64"


def test_base64_accepts_str_and_bytes_and_surrounding_whitespace() -> None:
    update = _doc_update([p("Bonjour")])
    encoded = base64.b64encode(update).decode()
    assert bn.decode_base64_update(encoded) == update
    assert bn.decode_base64_update(f"  {encoded}\n".encode()) == update


@pytest.mark.parametrize("data", [b"garbage bytes that are not yjs", b"\x01\x02", b"\x05" * 40, b""])
def test_bytes_that_are_not_a_yjs_update(data: bytes) -> None:
    with pytest.raises(bn.InvalidYjsUpdateError) as caught:
        bn.read_update(data)
    assert caught.value.code == "invalid_yjs_update"


def test_base64_of_garbage_is_an_invalid_update_not_a_crash() -> None:
    with pytest.raises(bn.InvalidYjsUpdateError):
        bn.read_base64(base64.b64encode(b"\x01\x01\xff\xff\xff\xff\x0f\x00\x99\x99").decode())


def test_update_over_the_size_limit_is_refused_before_decoding() -> None:
    update = _doc_update([p("x" * 2000)])
    with pytest.raises(bn.YDocTooLargeError) as caught:
        bn.read_update(update, max_bytes=1000)
    assert caught.value.code == "ydoc_too_large"
    encoded = base64.b64encode(update).decode()
    with pytest.raises(bn.YDocTooLargeError):
        bn.decode_base64_update(encoded, max_bytes=1000)
    with pytest.raises(bn.YDocTooLargeError):
        bn.read_base64(encoded, max_bytes=1000)
    with pytest.raises(bn.YDocTooLargeError):
        bn.insert_blocks_update(update, [p("y")], max_bytes=1000)
    assert bn.read_update(update, max_bytes=len(update)).blocks[0].plain_text() == "x" * 2000


def test_a_document_without_document_store_is_refused() -> None:
    doc: Doc = Doc()
    doc.get("prosemirror", type=XmlFragment).children.append(XmlElement("blockGroup"))
    doc.get("meta", type=Map)["title"] = "Autre éditeur"
    with pytest.raises(bn.MissingDocumentStoreError) as caught:
        bn.read_update(doc.get_update())
    assert caught.value.code == "missing_document_store"
    assert "prosemirror" in caught.value.message
    with pytest.raises(bn.MissingDocumentStoreError):
        bn.insert_blocks_update(doc.get_update(), [p("x")])


def test_unknown_block_types_are_refused_everywhere() -> None:
    with pytest.raises(bn.UnknownBlockTypeError) as caught:
        bn.blocks_from_json([{"type": "paragraph"}, {"type": "columnList", "children": []}])
    assert caught.value.code == "unknown_block_type"
    assert caught.value.path == "[1]"
    with pytest.raises(bn.UnknownBlockTypeError):
        bn.make_block("mermaid")
    with pytest.raises(bn.UnknownBlockTypeError):
        bn.new_document_update([bn.Block("alert", {}, [])])
    # Docs' own blocks are not known to a plain BlockNote editor: refused when that is the target.
    with pytest.raises(bn.UnknownBlockTypeError):
        bn.new_document_update([bn.make_block("callout", "Attention")], schema=bn.BLOCKNOTE_SCHEMA)


@pytest.mark.parametrize(
    ("block", "where"),
    [
        ({"type": "heading", "props": {"level": "2"}}, "level"),
        ({"type": "heading", "props": {"level": 7}}, "level"),
        ({"type": "heading", "props": {"level": True}}, "level"),
        ({"type": "heading", "props": {"isToggleable": "false"}}, "isToggleable"),
        ({"type": "checkListItem", "props": {"checked": "false"}}, "checked"),
        ({"type": "checkListItem", "props": {"checked": 1}}, "checked"),
        ({"type": "paragraph", "props": {"textColor": 3}}, "textColor"),
        ({"type": "paragraph", "props": {"textAlignment": "middle"}}, "textAlignment"),
        ({"type": "paragraph", "props": {"fontSize": 12}}, "fontSize"),
        ({"type": "image", "props": {"previewWidth": "300px"}}, "previewWidth"),
        ({"type": "image", "props": {"previewWidth": float("nan")}}, "previewWidth"),
        ({"type": "numberedListItem", "props": {"start": 2.5}}, "start"),
        ({"type": "numberedListItem", "props": {"start": 2**60}}, "start"),
        ({"type": "uploadLoader", "props": {"type": "done"}}, "type"),
        ({"type": "paragraph", "props": "left"}, "props"),
    ],
)
def test_wrong_prop_types_are_refused(block: dict, where: str) -> None:
    with pytest.raises(bn.InvalidBlockPropsError) as caught:
        bn.blocks_from_json([block])
    assert caught.value.code == "invalid_block_props"
    assert where in caught.value.message


def test_wrong_prop_types_in_typed_blocks_are_refused_before_writing() -> None:
    block = bn.make_block("checkListItem", "Tâche")
    block.props["checked"] = "false"  # the y-py mistake: a truthy string
    with pytest.raises(bn.InvalidBlockPropsError):
        bn.new_document_update([block])
    with pytest.raises(bn.InvalidBlockPropsError):
        bn.make_block("heading", "Titre", level="2")


@pytest.mark.parametrize(
    "block",
    [
        {"type": "paragraph", "content": [{"type": "text", "text": "x", "styles": {"blink": True}}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "x", "styles": {"bold": "yes"}}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "x", "styles": {"textColor": True}}]},
        {"type": "paragraph", "content": [{"type": "mention", "props": {}}]},
        {"type": "paragraph", "content": [{"type": "link", "href": 3, "content": "x"}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "\ud800"}]},
        {"type": "paragraph", "content": {"type": "tableContent", "rows": []}},
        {"type": "codeBlock", "content": [{"type": "text", "text": "x", "styles": {"bold": True}}]},
        {"type": "divider", "content": [{"type": "text", "text": "x"}]},
        {"type": "table", "content": [{"type": "text", "text": "x"}]},
        {"type": "table", "content": {"type": "tableContent", "rows": []}},
        {"type": "table", "content": {"type": "tableContent", "rows": [{"cells": []}]}},
        {"type": "table", "content": {"type": "tableContent", "columnWidths": [-1], "rows": [{"cells": ["a"]}]}},
    ],
)
def test_invalid_inline_content_is_refused(block: dict) -> None:
    with pytest.raises(bn.InvalidInlineContentError) as caught:
        bn.blocks_from_json([block])
    assert caught.value.code == "invalid_inline_content"


@pytest.mark.parametrize(
    "data",
    [{"type": "paragraph"}, "blocks", [1], [{"type": "paragraph", "children": "x"}], [{"id": 3}], None],
)
def test_structurally_invalid_blocks(data: object) -> None:
    with pytest.raises(bn.InvalidBlocksError) as caught:
        bn.blocks_from_json(data)
    assert caught.value.code in {"invalid_blocks", "unknown_block_type"}


def test_duplicate_block_ids_are_refused() -> None:
    with pytest.raises(bn.DuplicateBlockIdError) as caught:
        bn.blocks_from_json([{"id": "a", "type": "paragraph", "children": [{"id": "a", "type": "paragraph"}]}])
    assert caught.value.code == "duplicate_block_id"
    assert caught.value.block_id == "a"


def test_unknown_block_ids() -> None:
    blocks = [h(1, "Titre"), p("Texte", children=[li("enfant")])]
    update = _doc_update(blocks)
    for edit in (
        lambda: bn.insert_blocks_update(update, [p("x")], after="nope"),
        lambda: bn.replace_blocks_update(update, "nope", None, [p("x")]),
        lambda: bn.replace_blocks_update(update, blocks[0].id, "nope", [p("x")]),
        lambda: bn.append_children_update(update, "nope", [p("x")]),
        lambda: bn.insert_blocks_update(update, [p("x")], after=3),  # type: ignore[arg-type]
        lambda: bn.select_blocks(blocks, [blocks[0].id, "nope"]),
    ):
        with pytest.raises(bn.UnknownBlockIdError) as caught:
            edit()
        assert caught.value.code == "unknown_block_id"


def test_a_range_across_parents_is_an_invalid_edit() -> None:
    child = li("enfant")
    blocks = [p("a"), p("b", children=[child])]
    update = _doc_update(blocks)
    with pytest.raises(bn.InvalidEditError):
        bn.replace_blocks_update(update, blocks[0].id, child.id, [p("x")])
    with pytest.raises(bn.InvalidEditError):
        bn.replace_blocks_update(update, blocks[1].id, blocks[0].id, [p("x")])


def test_every_edit_refuses_invalid_blocks_before_writing() -> None:
    blocks = [h(1, "Titre"), p("Texte")]
    update = _doc_update(blocks)
    good, bad = p("valide"), p("invalide")
    bad.props["textAlignment"] = "diagonal"
    taken = bn.Block("paragraph", dict(good.props), [], [], blocks[1].id)
    for edit, error in (
        (lambda: bn.insert_blocks_update(update, [good, bad]), bn.InvalidBlockPropsError),
        (lambda: bn.insert_blocks_update(update, [good, bn.Block("mermaid", {}, None)]), bn.UnknownBlockTypeError),
        (lambda: bn.replace_blocks_update(update, blocks[0].id, None, [good, bad]), bn.InvalidBlockPropsError),
        (lambda: bn.append_children_update(update, blocks[0].id, [good, bad]), bn.InvalidBlockPropsError),
        (lambda: bn.insert_blocks_update(update, [good, good], keep_ids=True), bn.DuplicateBlockIdError),
        (lambda: bn.insert_blocks_update(update, [taken], keep_ids=True), bn.DuplicateBlockIdError),
        (lambda: bn.insert_blocks_update(update, "texte"), bn.InvalidBlocksError),  # type: ignore[arg-type]
    ):
        with pytest.raises(error):
            edit()
