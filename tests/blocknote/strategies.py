"""Hypothesis strategies: random valid BlockNote block trees (default schema + Docs' blocks)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from suite_ai.blocknote import (
    Block,
    InlineNode,
    Link,
    StyledText,
    TableCell,
    TableContent,
    new_block_id,
)
from suite_ai.blocknote.schema import DOCS_SCHEMA, UNSET

# Text: accents, emoji (astral plane: UTF-16 surrogate pairs in Yjs, 4 UTF-8 bytes in pycrdt),
# markdown-special characters and hard breaks.
PIECES = st.sampled_from(
    [
        *list("abcdefghij ABCXYZ 0123456789 éèàçôÉœ«»’…—–"),
        "🚀",
        "👩🏽\u200d💻",
        "🇫🇷",
        "\n",
        "*",
        "_",
        "`",
        "[",
        "]",
        "<",
        "&",
        "#",
        "|",
        "ﬁ",
        "\t",
    ]
)
TEXT = st.lists(PIECES, max_size=24).map("".join)
NON_EMPTY_TEXT = st.lists(PIECES, min_size=1, max_size=24).map("".join)
COLOURS = st.sampled_from(["default", "red", "blue", "gray", "yellow", "purple", "#ff0000"])
ALIGN = st.sampled_from(["left", "center", "right", "justify"])
URL = st.sampled_from(["https://example.org", "https://www.legifrance.gouv.fr/a?b=é", "mailto:a@b.fr", "/docs/x/"])


@st.composite
def styles(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ("bold", "italic", "underline", "strike", "code"):
        if draw(st.integers(0, 3)) == 0:
            out[name] = True
    if draw(st.integers(0, 5)) == 0:
        out["textColor"] = draw(COLOURS.filter(lambda c: c != "default"))
    if draw(st.integers(0, 5)) == 0:
        out["backgroundColor"] = draw(COLOURS.filter(lambda c: c != "default"))
    return out


RUN = st.builds(StyledText, NON_EMPTY_TEXT, styles())
LINK = st.builds(Link, URL, st.lists(RUN, min_size=1, max_size=3))
INTERLINK = st.builds(
    lambda doc_id, title, disabled, trigger: InlineNode(
        "interlinkingLinkInline", {"docId": doc_id, "disabled": disabled, "trigger": trigger, "title": title}
    ),
    st.uuids().map(str),
    TEXT.map(lambda s: s.replace("\n", " ")),
    st.booleans(),
    st.sampled_from(["/", "@"]),
)


def inline(*, docs: bool = True) -> st.SearchStrategy[list[Any]]:
    items = st.one_of(RUN, RUN, RUN, LINK, INTERLINK) if docs else st.one_of(RUN, RUN, LINK)
    return st.lists(items, max_size=5)


def _value(spec: Any) -> st.SearchStrategy[Any]:
    if spec.values is not None:
        return st.sampled_from(spec.values)
    if spec.name in ("textColor", "backgroundColor"):
        return COLOURS
    if spec.kind == "boolean":
        return st.booleans()
    if spec.kind == "integer":
        return st.integers(min_value=0, max_value=500)
    if spec.kind == "number":
        return st.one_of(st.integers(min_value=1, max_value=2000), st.sampled_from([120.5, 333.25]))
    if spec.name == "url":
        return URL
    if spec.name == "emoji":
        return st.sampled_from(["💡", "ℹ️", "⚠️", "✅"])
    return TEXT.map(lambda s: s.replace("\n", " "))


@st.composite
def props_for(draw: st.DrawFn, block_type: str) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for spec in DOCS_SCHEMA.block(block_type).props:
        if spec.default is UNSET:
            if draw(st.booleans()):
                props[spec.name] = draw(_value(spec))
        elif draw(st.integers(0, 2)) == 0:
            props[spec.name] = draw(_value(spec))
        else:
            props[spec.name] = spec.default
    return props


@st.composite
def table_content(draw: st.DrawFn, *, docs: bool) -> TableContent:
    rows = draw(st.integers(1, 3))
    columns = draw(st.integers(1, 3))
    cell_props = st.fixed_dictionaries(
        {
            "colspan": st.just(1),
            "rowspan": st.just(1),
            "backgroundColor": COLOURS,
            "textColor": COLOURS,
            "textAlignment": ALIGN,
        }
    )
    grid = [[TableCell(draw(inline(docs=docs)), draw(cell_props)) for _ in range(columns)] for _ in range(rows)]
    widths = draw(st.lists(st.one_of(st.none(), st.integers(50, 400)), min_size=columns, max_size=columns))
    header_rows = draw(st.one_of(st.none(), st.integers(1, rows)))
    header_cols = draw(st.one_of(st.none(), st.integers(1, columns)))
    return TableContent(grid, widths, header_rows, header_cols)


DEFAULT_TYPES = [
    "paragraph",
    "heading",
    "bulletListItem",
    "numberedListItem",
    "checkListItem",
    "toggleListItem",
    "quote",
    "codeBlock",
    "divider",
    "image",
    "video",
    "audio",
    "file",
    "table",
]
DOCS_TYPES = ["callout", "pdf", "uploadLoader", "pageBreak"]


@st.composite
def block(draw: st.DrawFn, *, depth: int = 0, docs: bool = True) -> Block:
    block_type = draw(st.sampled_from(DEFAULT_TYPES + (DOCS_TYPES if docs else [])))
    spec = DOCS_SCHEMA.block(block_type)
    content: Any
    if spec.content == "inline":
        content = draw(inline(docs=docs))
    elif spec.content == "plain":
        content = [StyledText(text)] if (text := draw(TEXT)) else []
    elif spec.content == "table":
        content = draw(table_content(docs=docs))
    else:
        content = None
    children: list[Block] = []
    if depth < 2 and draw(st.integers(0, 3)) == 0:
        children = draw(st.lists(block(depth=depth + 1, docs=docs), min_size=1, max_size=3))
    return Block(block_type, draw(props_for(block_type)), content, children, new_block_id())


def documents(*, docs: bool = True, max_size: int = 6) -> st.SearchStrategy[list[Block]]:
    return st.lists(block(docs=docs), min_size=1, max_size=max_size)
