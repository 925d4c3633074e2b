"""BlockNote JSON ⇄ typed blocks, and selecting blocks by id."""

from __future__ import annotations

import json
import uuid

import pytest

import suite_ai.blocknote as bn
from tests.blocknote.corpus import CORPUS, h, li, p

# What BlockNote 0.55's yDocToBlocks returned for a small document (ids shortened), key order included.
EDITOR_JSON = [
    {
        "id": "h1",
        "type": "heading",
        "props": {
            "backgroundColor": "default",
            "textColor": "default",
            "textAlignment": "left",
            "level": 1,
            "isToggleable": False,
        },
        "content": [
            {"type": "text", "text": "Titre ", "styles": {}},
            {"type": "text", "text": "gras", "styles": {"bold": True}},
        ],
        "children": [],
    },
    {
        "id": "p1",
        "type": "paragraph",
        "props": {"backgroundColor": "default", "textColor": "default", "textAlignment": "left"},
        "content": [
            {"type": "text", "text": "Para ", "styles": {}},
            {"type": "link", "href": "https://ex.org", "content": [{"type": "text", "text": "lien", "styles": {}}]},
            {"type": "text", "text": "barré\n", "styles": {"strike": True}},
            {"type": "text", "text": " ligne2", "styles": {"textColor": "red"}},
        ],
        "children": [
            {
                "id": "n1",
                "type": "numberedListItem",
                "props": {"backgroundColor": "default", "textColor": "default", "textAlignment": "left"},
                "content": [{"type": "text", "text": "un", "styles": {}}],
                "children": [],
            },
        ],
    },
    {
        "id": "c1",
        "type": "codeBlock",
        "props": {"language": "python"},
        "content": [{"type": "text", "text": "print(1)", "styles": {}}],
        "children": [],
    },
    {
        "id": "t1",
        "type": "table",
        "props": {"textColor": "default"},
        "content": {
            "type": "tableContent",
            "columnWidths": [None, 120],
            "headerRows": 1,
            "rows": [
                {
                    "cells": [
                        {
                            "type": "tableCell",
                            "content": [{"type": "text", "text": "A", "styles": {}}],
                            "props": {
                                "colspan": 1,
                                "rowspan": 1,
                                "backgroundColor": "default",
                                "textColor": "default",
                                "textAlignment": "left",
                            },
                        },
                        {
                            "type": "tableCell",
                            "content": [],
                            "props": {
                                "colspan": 1,
                                "rowspan": 1,
                                "backgroundColor": "default",
                                "textColor": "default",
                                "textAlignment": "center",
                            },
                        },
                    ]
                },
                {
                    "cells": [
                        {
                            "type": "tableCell",
                            "content": [{"type": "text", "text": "1", "styles": {}}],
                            "props": {
                                "colspan": 2,
                                "rowspan": 1,
                                "backgroundColor": "yellow",
                                "textColor": "default",
                                "textAlignment": "left",
                            },
                        },
                    ]
                },
            ],
        },
        "children": [],
    },
    {"id": "d1", "type": "divider", "props": {}, "children": []},
    {
        "id": "i1",
        "type": "image",
        "props": {
            "textAlignment": "left",
            "backgroundColor": "default",
            "name": "img",
            "url": "https://ex.org/a.png",
            "caption": "",
            "showPreview": True,
        },
        "children": [],
    },
    {
        "id": "cl",
        "type": "callout",
        "props": {"textAlignment": "left", "backgroundColor": "default", "emoji": "💡"},
        "content": [
            {
                "type": "interlinkingLinkInline",
                "props": {"docId": "abc", "disabled": False, "trigger": "/", "title": "Note"},
            }
        ],
        "children": [],
    },
]


def test_editor_json_round_trips_key_for_key() -> None:
    blocks = bn.blocks_from_json(EDITOR_JSON)
    assert json.dumps(bn.blocks_to_json(blocks), ensure_ascii=False) == json.dumps(EDITOR_JSON, ensure_ascii=False)
    assert isinstance(blocks[3].content, bn.TableContent) and blocks[3].content.column_widths == [None, 120]
    assert blocks[1].children[0].type == "numberedListItem"
    assert bn.blocks_to_json(bn.read_update(bn.new_document_update(blocks)).blocks) == EDITOR_JSON


def test_the_input_wrapper_object_is_accepted() -> None:
    assert bn.blocks_to_json(bn.blocks_from_json({"blocks": EDITOR_JSON[:1]})) == EDITOR_JSON[:1]


def test_partial_blocks_get_defaults_and_fresh_ids() -> None:
    blocks = bn.blocks_from_json(
        [
            {"type": "heading", "props": {"level": 3}, "content": "Titre"},
            {"content": ["texte ", {"type": "link", "href": "https://ex.org", "content": "lien"}]},
            {"type": "checkListItem", "props": {"checked": True}},
            {"type": "numberedListItem", "props": {"start": None}},
            {
                "type": "table",
                "content": {"type": "tableContent", "rows": [{"cells": ["a", [{"type": "text", "text": "b"}]]}]},
            },
        ]
    )
    out = bn.blocks_to_json(blocks)
    assert out[0]["props"] == {
        "backgroundColor": "default",
        "textColor": "default",
        "textAlignment": "left",
        "level": 3,
        "isToggleable": False,
    }
    assert out[0]["content"] == [{"type": "text", "text": "Titre", "styles": {}}]
    assert out[1]["type"] == "paragraph"
    assert out[1]["content"][1] == {
        "type": "link",
        "href": "https://ex.org",
        "content": [{"type": "text", "text": "lien", "styles": {}}],
    }
    assert out[2]["props"]["checked"] is True and out[2]["content"] == []
    assert "start" not in out[3]["props"]
    table = out[4]["content"]
    assert [cell["content"][0]["text"] for cell in table["rows"][0]["cells"]] == ["a", "b"]
    assert table["rows"][0]["cells"][0]["props"]["colspan"] == 1
    for block in blocks:
        assert uuid.UUID(block.id).version == 4


def test_input_is_normalized_as_the_editor_would_show_it() -> None:
    (block,) = bn.blocks_from_json(
        [
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "a", "styles": {"bold": True}},
                    {"type": "text", "text": "b", "styles": {"bold": True}},
                    {"type": "text", "text": "", "styles": {}},
                    {"type": "text", "text": "\nc", "styles": {"italic": False}},
                ],
            }
        ]
    )
    assert block.content == [bn.StyledText("ab\n", {"bold": True}), bn.StyledText("c", {})]


def test_to_json_leaves_out_what_blocknote_leaves_out() -> None:
    out = bn.blocks_to_json([bn.make_block("divider"), bn.make_block("image"), bn.make_block("numberedListItem")])
    assert "content" not in out[0] and out[0]["props"] == {}
    assert "previewWidth" not in out[1]["props"] and "content" not in out[1]
    assert "start" not in out[2]["props"]
    table = bn.blocks_to_json(CORPUS["table_no_header"]())[0]["content"]
    assert "headerRows" not in table and "headerCols" not in table


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_json_round_trip(name: str) -> None:
    blocks = [bn.normalize_block(b) for b in CORPUS[name]()]
    data = bn.blocks_to_json(blocks)
    assert bn.blocks_to_json(bn.blocks_from_json(json.loads(json.dumps(data)))) == data


def test_select_blocks_by_id_in_document_order_without_repeats() -> None:
    child = li("enfant")
    blocks = [h(1, "Titre"), p("parent", children=[child]), p("fin")]
    selected = bn.select_blocks(blocks, [blocks[2].id, child.id, blocks[1].id])
    assert [b.id for b in selected] == [blocks[1].id, blocks[2].id]
    assert selected[0].children == [child]
    assert bn.select_blocks(blocks, [child.id]) == [child]
    assert bn.select_blocks(blocks, []) == []
    with pytest.raises(bn.UnknownBlockIdError) as caught:
        bn.select_blocks(blocks, [child.id, "absent-1", "absent-2"])
    assert "absent-1" in caught.value.message and caught.value.block_id == "absent-1"
    with pytest.raises(bn.UnknownBlockIdError):
        bn.select_blocks(blocks, "pas une liste")  # type: ignore[arg-type]


def test_selection_then_markdown_is_what_the_model_reads() -> None:
    blocks = [h(1, "Titre"), p("à résumer"), p("hors sélection")]
    rendering = bn.blocks_to_markdown(bn.select_blocks(blocks, [blocks[1].id]))
    assert rendering.markdown == "à résumer"
    assert rendering.block_id_at(0) == blocks[1].id
