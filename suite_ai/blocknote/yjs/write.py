"""Write BlockNote blocks as Yjs items: a brand-new document, or blocks chained into an edit.

Every block is validated against the schema before anything is encoded, because y-prosemirror
deletes nodes it does not know from the shared document, for everyone. The items are encoded
directly (``encoder.StructEncoder``) rather than through pycrdt's API: see the encoder for why.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any

from pycrdt import Doc

from ..model import (
    HARD_BREAK,
    Block,
    InlineContent,
    InlineNode,
    StyledText,
    TableCell,
    TableContent,
    inline_tokens,
    new_block_id,
)
from ..schema import DOCS_SCHEMA, TABLE_CELL_PROPS, UNSET, PropSpec, Schema, validate_blocks
from .encoder import ID, StructEncoder
from .guard import check_update
from .layout import (
    BLOCK_CONTAINER,
    BLOCK_GROUP,
    FRAGMENT_NAME,
    HARD_BREAK_TAG,
    TABLE_CELL,
    TABLE_HEADER,
    TABLE_PARAGRAPH,
    TABLE_ROW,
)


def _prop_attrs(props: dict[str, Any], specs: Iterable[PropSpec]) -> dict[str, Any]:
    """Every prop BlockNote would write, JSON-typed; unset ``undefined`` props are left out."""
    attrs: dict[str, Any] = {}
    for spec in specs:
        value = props.get(spec.name, spec.default)
        if value is UNSET or value is None:
            continue
        attrs[spec.name] = value
    return attrs


def _mark_attrs(styles: dict[str, Any], href: str | None, schema: Schema) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for name, value in styles.items():
        if not value:
            continue
        attrs[name] = {"stringValue": value} if schema.styles.get(name) == "string" else {}
    if href is not None:
        attrs["link"] = {"href": href}
    return attrs


def _inline_pieces(content: Sequence[InlineContent], schema: Schema) -> list[Any]:
    """Inline content → ``(text, mark attrs)`` runs (neighbours with the same marks joined), hard
    breaks and inline nodes, in order: one XmlText per stretch of runs."""
    pieces: list[Any] = []
    for token in inline_tokens(content):
        if not isinstance(token, tuple):
            pieces.append(token)
            continue
        text, styles, href = token
        attrs = _mark_attrs(styles, href, schema)
        previous = pieces[-1] if pieces else None
        if isinstance(previous, tuple) and previous[1] == attrs:
            pieces[-1] = (previous[0] + text, attrs)
        else:
            pieces.append((text, attrs))
    return pieces


def _cell_layout(table: TableContent) -> list[list[tuple[TableCell, str, dict[str, Any]]]]:
    """Each cell's node name (tableHeader/tableCell) and attributes, as BlockNote's tableContentToNodes."""
    header_rows = table.header_rows or 0
    header_cols = table.header_cols or 0
    widths = table.column_widths
    occupied: set[tuple[int, int]] = set()
    layout: list[list[tuple[TableCell, str, dict[str, Any]]]] = []
    for row_index, row in enumerate(table.rows):
        cells: list[tuple[TableCell, str, dict[str, Any]]] = []
        column = 0
        for cell_index, cell in enumerate(row):
            while (row_index, column) in occupied:
                column += 1
            colspan, rowspan = cell.spans()
            occupied.update(
                (r, c) for r in range(row_index, row_index + rowspan) for c in range(column, column + colspan)
            )
            attrs = _prop_attrs(cell.props, TABLE_CELL_PROPS)
            if colspan > 1:
                attrs["colwidth"] = [widths[column + i] if column + i < len(widths) else None for i in range(colspan)]
            elif column < len(widths) and widths[column]:
                attrs["colwidth"] = [widths[column]]
            tag = TABLE_HEADER if row_index < header_rows or cell_index < header_cols else TABLE_CELL
            cells.append((cell, tag, attrs))
            column += colspan
        layout.append(cells)
    return layout


class BlockWriter:
    """Blocks → Yjs items through one ``StructEncoder``; each item names its left neighbour."""

    def __init__(self, schema: Schema, encoder: StructEncoder) -> None:
        self.schema = schema
        self.encoder = encoder

    def inline(self, element: ID, content: Sequence[InlineContent]) -> None:
        encoder = self.encoder
        last: ID | None = None
        runs: list[tuple[str, dict[str, Any]]] = []
        for piece in _inline_pieces(content, self.schema):
            if isinstance(piece, tuple):
                runs.append(piece)
                continue
            if runs:
                last = encoder.xml_text(origin=last, parent=element)
                encoder.text_runs(last, runs)
                runs = []
            if piece is HARD_BREAK:
                last = encoder.element(HARD_BREAK_TAG, origin=last, parent=element)
            else:
                node: InlineNode = piece
                last = encoder.element(node.type, origin=last, parent=element)
                encoder.attributes(last, _prop_attrs(node.props, self.schema.inline[node.type].props))
                if isinstance(node.content, list):
                    self.inline(last, node.content)
                elif isinstance(node.content, str) and node.content:
                    encoder.text_runs(encoder.xml_text(parent=last), [(node.content, {})])
        if runs:
            last = encoder.xml_text(origin=last, parent=element)
            encoder.text_runs(last, runs)

    def table(self, element: ID, table: TableContent) -> None:
        encoder = self.encoder
        last_row: ID | None = None
        for cells in _cell_layout(table):
            last_row = encoder.element(TABLE_ROW, origin=last_row, parent=element)
            last_cell: ID | None = None
            for cell, tag, attrs in cells:
                last_cell = encoder.element(tag, origin=last_cell, parent=last_row)
                encoder.attributes(last_cell, attrs)
                paragraph = encoder.element(TABLE_PARAGRAPH, parent=last_cell)
                self.inline(paragraph, cell.content)

    def fill_container(self, container: ID, block: Block) -> None:
        """The id attribute, content node and children of an already-created blockContainer."""
        encoder = self.encoder
        spec = self.schema.block(block.type)
        encoder.attributes(container, {"id": block.id})
        node = encoder.element(block.type, parent=container)
        encoder.attributes(node, _prop_attrs(block.props, spec.props))
        if spec.content == "inline" and isinstance(block.content, list):
            self.inline(node, block.content)
        elif spec.content == "plain" and isinstance(block.content, list):
            text = "".join(run.text for run in block.content if isinstance(run, StyledText))
            if text:
                encoder.text_runs(encoder.xml_text(parent=node), [(text, {})])
        elif spec.content == "table" and isinstance(block.content, TableContent):
            self.table(node, block.content)
        if block.children:
            group = encoder.element(BLOCK_GROUP, origin=node, parent=container)
            self.blocks(block.children, parent=group)

    def blocks(self, blocks: list[Block], *, parent: ID | None, origin: ID | None = None) -> ID | None:
        """Sibling containers chained by origin; returns the last one's id."""
        last = origin
        for block in blocks:
            last = self.encoder.element(BLOCK_CONTAINER, origin=last, parent=parent)
            self.fill_container(last, block)
        return last


def empty_paragraph(schema: Schema) -> Block:
    """What the editor puts in a document that would otherwise have no block."""
    return Block("paragraph", schema.block("paragraph").defaults(), [], [], new_block_id())


def new_document_update(blocks: list[Block], *, schema: Schema = DOCS_SCHEMA) -> bytes:
    """Blocks (validated first) → the full v1 update of a brand-new document with one root blockGroup.

    For a new Docs note only: never merge a fresh document into one that clients may hold (that
    makes a second root blockGroup and hides the new text).
    """
    validate_blocks(blocks, schema)
    encoder = StructEncoder(random.getrandbits(32), 0)
    writer = BlockWriter(schema, encoder)
    group = encoder.element(BLOCK_GROUP, parent=FRAGMENT_NAME)
    writer.blocks(blocks or [empty_paragraph(schema)], parent=group)
    return encoder.update()


def new_document(blocks: list[Block], *, schema: Schema = DOCS_SCHEMA) -> Doc:
    """A pycrdt Doc holding ``blocks`` under one root blockGroup."""
    update = new_document_update(blocks, schema=schema)
    check_update(update)  # no update reaches pycrdt unchecked, even one we wrote
    doc: Doc = Doc()
    doc.apply_update(update)
    return doc


def with_fresh_ids(blocks: list[Block]) -> list[Block]:
    """A copy of the tree with new UUID v4 ids everywhere (safe to insert next to the originals).

    Content is shared with the originals (it is never mutated by the writers); props are copied.
    """
    return [
        Block(block.type, dict(block.props), block.content, with_fresh_ids(block.children), new_block_id())
        for block in blocks
    ]
