"""BlockNote documents in Yjs, with pycrdt: decode, read, write a new document, edit incrementally.

Layout (what ``@blocknote/core`` writes through y-prosemirror)::

    XmlFragment "document-store" > blockGroup (exactly one) > blockContainer {id}
        > <blockType {props}> > XmlText (marks = formatting attributes) | hardBreak | inline nodes
        > blockGroup (children, optional)

Why pycrdt: y-py writes attribute values that Yjs reads as their last character and cannot write
marks (see tests/interop/test_ypy.py). Text offsets in pycrdt are UTF-8 bytes.

Writing goes through ``yupdate.StructEncoder`` (Yjs items encoded directly, linear time); the
pycrdt-API writer ``_ApiWriter`` is kept as an independent cross-check for the tests.
"""

from __future__ import annotations

import base64
import binascii
import random
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText, _pycrdt, merge_updates

from .errors import (
    InvalidBase64Error,
    InvalidEditError,
    InvalidYjsUpdateError,
    MissingDocumentStoreError,
    UnknownBlockIdError,
    YDocTooLargeError,
)
from .model import (
    _HARD_BREAK,
    Block,
    InlineContent,
    InlineNode,
    Link,
    StyledText,
    TableCell,
    TableContent,
    iter_blocks,
    merge_tokens,
    new_block_id,
)
from .schema import DOCS_SCHEMA, IGNORED_MARKS, TABLE_CELL_PROPS, UNSET, PropSpec, Schema, validate_blocks
from .yupdate import ID, StructEncoder, decode_state_vector

# pycrdt's native node classes (see _Reader); typed Any because its stubs omit some methods (tag()).
_RawElement: Any = _pycrdt.XmlElement
_RawText: Any = _pycrdt.XmlText

#: The root XmlFragment La Suite Docs (and its y-provider) use.
FRAGMENT_NAME = "document-store"
#: Docs accepts content up to 20 MB (``CONVERSION_FILE_MAX_SIZE``); a sane default for one update.
DEFAULT_MAX_UPDATE_BYTES = 20 * 1024 * 1024

_BLOCK_GROUP = "blockGroup"
_BLOCK_CONTAINER = "blockContainer"
_HARD_BREAK_TAG = "hardBreak"


@dataclass(frozen=True, slots=True)
class Anomaly:
    """Something odd in a document that was read anyway (and what the editor does with it)."""

    code: str
    message: str
    block_id: str | None = None


@dataclass(slots=True)
class ReadResult:
    """The blocks the editor shows, and what was odd about the document."""

    blocks: list[Block]
    anomalies: list[Anomaly] = field(default_factory=list)


@dataclass(slots=True)
class EditResult:
    """An incremental Yjs update (diff against the state before the edit) and the blocks it wrote."""

    update: bytes
    block_ids: list[str]
    anomalies: list[Anomaly] = field(default_factory=list)

    @property
    def update_base64(self) -> str:
        return base64.b64encode(self.update).decode("ascii")


# --- decoding ----------------------------------------------------------------------------------------


def decode_base64_update(data: str | bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES) -> bytes:
    """Base64 (as Docs stores content) → update bytes, refusing oversized input before decoding it."""
    if isinstance(data, str):
        try:
            raw = data.strip().encode("ascii")
        except UnicodeEncodeError:
            raise InvalidBase64Error("The Yjs document is not valid base64 (non-ASCII characters).") from None
    elif isinstance(data, bytes | bytearray):
        raw = bytes(data).strip()
    else:
        raise InvalidBase64Error("The Yjs document must be a base64 string.")
    if len(raw) // 4 * 3 > max_bytes + 3:
        raise YDocTooLargeError(f"The Yjs document is larger than the {max_bytes} byte limit.")
    try:
        update = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidBase64Error("The Yjs document is not valid base64.") from None
    if len(update) > max_bytes:
        raise YDocTooLargeError(f"The Yjs document is {len(update)} bytes, over the {max_bytes} byte limit.")
    return update


def load_doc(update: bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES) -> Doc:
    """A pycrdt Doc from a v1 update; typed errors for oversized or undecodable bytes."""
    if not isinstance(update, bytes | bytearray | memoryview):
        raise InvalidYjsUpdateError("A Yjs update must be bytes.")
    update = bytes(update)
    if len(update) > max_bytes:
        raise YDocTooLargeError(f"The Yjs document is {len(update)} bytes, over the {max_bytes} byte limit.")
    if not update:
        raise InvalidYjsUpdateError("The Yjs update is empty (an empty document is b'\\x00\\x00').")
    doc: Doc = Doc()
    try:
        doc.apply_update(update)
    except BaseException as error:  # pyo3 raises PanicException (a BaseException) on some garbage
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise InvalidYjsUpdateError(f"These bytes are not a Yjs update ({error}).") from None
    return doc


def _fragment(doc: Doc) -> XmlFragment | None:
    """The ``document-store`` fragment; None for an empty doc; an error if the doc holds other roots."""
    keys = list(doc.keys())
    if FRAGMENT_NAME in keys:
        return doc.get(FRAGMENT_NAME, type=XmlFragment)
    if keys:
        raise MissingDocumentStoreError(
            f"This Yjs document has no {FRAGMENT_NAME!r} root (it has {sorted(keys)}); it is not a Docs document."
        )
    return None


# --- reading ------------------------------------------------------------------------------------------


class _Reader:
    """Walks the XML tree the way y-prosemirror + BlockNote's ``docToBlocks`` would render it.

    Works on pycrdt's native nodes inside one read transaction: the public wrappers open a
    transaction and allocate an object per access, which made reading several times slower.
    """

    def __init__(self, schema: Schema, txn: Any) -> None:
        self.schema = schema
        self.txn = txn
        self.anomalies: list[Anomaly] = []

    def note(self, code: str, message: str, block_id: str | None = None) -> None:
        self.anomalies.append(Anomaly(code, message, block_id))

    def children(self, node: Any) -> list[Any]:
        return node.children(self.txn)

    def attributes(self, element: Any) -> dict[str, Any]:
        return dict(element.attributes(self.txn))

    def read_fragment(self, fragment: XmlFragment | None) -> list[Block]:
        if fragment is None:
            self.note("empty_document", f"The document has no {FRAGMENT_NAME!r} content.")
            return []
        groups: list[Any] = []
        for child in self.children(fragment.integrated):
            if isinstance(child, _RawElement) and child.tag() == _BLOCK_GROUP:
                groups.append(child)
            else:
                self.note("unexpected_root_node", f"The fragment holds a {_node_name(child)} outside any blockGroup.")
        if not groups:
            self.note("empty_document", "The document has no root blockGroup.")
            return []
        blocks = self.read_group(groups[0])
        if len(groups) > 1:
            hidden = sum(len(self.read_group(group)) for group in groups[1:])
            self.note(
                "multiple_root_block_groups",
                f"The document has {len(groups)} root blockGroups; the editor shows only the first, so "
                f"{hidden} top-level block(s) in the others are invisible (two writers initialised it).",
            )
        return blocks

    def read_group(self, group: Any) -> list[Block]:
        blocks: list[Block] = []
        for child in self.children(group):
            if not isinstance(child, _RawElement):
                self.note("unexpected_node", "Text directly inside a blockGroup was skipped.")
                continue
            tag = child.tag()
            if tag == _BLOCK_CONTAINER:
                blocks.append(self.read_container(child))
            elif tag == _BLOCK_GROUP:
                self.note("unexpected_node", "A blockGroup directly inside a blockGroup was flattened.")
                blocks.extend(self.read_group(child))
            else:
                blocks.append(self.read_opaque(child))
        return blocks

    def read_opaque(self, element: Any) -> Block:
        """A block-level node this schema does not know (e.g. multi-column): kept, flagged, never written."""
        attrs = self.attributes(element)
        block_id = attrs.pop("id", None)
        block_id = block_id if isinstance(block_id, str) and block_id else new_block_id()
        tag = str(element.tag())
        self.note("unknown_block_type", f"Block type {tag!r} is not in the {self.schema.name} schema.", block_id)
        children: list[Block] = []
        for child in self.children(element):
            if isinstance(child, _RawElement):
                child_tag = child.tag()
                if child_tag == _BLOCK_CONTAINER:
                    children.append(self.read_container(child))
                elif child_tag == _BLOCK_GROUP:
                    children.extend(self.read_group(child))
                else:
                    children.append(self.read_opaque(child))
        return Block(tag, {k: v for k, v in attrs.items() if v is not None}, None, children, block_id)

    def read_container(self, container: Any) -> Block:
        container_attrs = self.attributes(container)
        raw_id = container_attrs.pop("id", None)
        if isinstance(raw_id, str) and raw_id:
            block_id = raw_id
        else:
            block_id = new_block_id()
            self.note("missing_block_id", "A block has no id; the editor gives it a new one on load.", block_id)
        content_node: Any = None
        children: list[Block] = []
        for child in self.children(container):
            if not isinstance(child, _RawElement):
                self.note("unexpected_node", "Text directly inside a blockContainer was skipped.", block_id)
            elif child.tag() == _BLOCK_GROUP:
                children.extend(self.read_group(child))
            elif content_node is None:
                content_node = child
            else:
                self.note("unexpected_node", f"Extra node {child.tag()!r} in a block was skipped.", block_id)
        legacy = {name: value for name, value in container_attrs.items() if value is not None}
        if legacy:
            self.note(
                "legacy_block_container_props",
                f"Older layout: {sorted(legacy)} on the blockContainer. The live editor moves non-default "
                "colours onto the block when it loads the document (a write); they are read that way.",
                block_id,
            )
        if content_node is None:
            self.note("missing_block_content", "A block has no content node; read as an empty paragraph.", block_id)
            return Block("paragraph", self.schema.block("paragraph").defaults(), [], children, block_id)
        block_type = str(content_node.tag())
        spec = self.schema.blocks.get(block_type)
        if spec is None:
            opaque = self.read_opaque(content_node)
            return Block(block_type, opaque.props, None, children + opaque.children, block_id)
        content_attrs = self.attributes(content_node)
        props = self.read_props(content_attrs, spec.props, block_id, block_type)
        if legacy:
            _migrate_legacy_props(props, legacy, content_attrs, self.schema.prop_map(block_type))
        content: Any
        if spec.content == "inline":
            content = self.read_inline(content_node, block_id)
        elif spec.content == "plain":
            text = "".join(run for run, _ in self._text_runs(content_node) if isinstance(run, str))
            content = [StyledText(text, {})] if text else []
        elif spec.content == "table":
            content = self.read_table(content_node, block_id)
        else:
            content = None
        return Block(block_type, props, content, children, block_id)

    def read_props(self, attrs: dict[str, Any], specs: Iterable[PropSpec], block_id: str, owner: str) -> dict[str, Any]:
        props: dict[str, Any] = {}
        for spec in specs:
            value = attrs.get(spec.name, UNSET)
            if value is None and spec.default is UNSET:
                value = UNSET  # BlockNote writes JS undefined here (e.g. numberedListItem.start)
            if value is UNSET:
                if spec.default is not UNSET:
                    props[spec.name] = spec.default
                continue
            if isinstance(value, float) and spec.kind in ("integer", "number") and value.is_integer():
                value = int(value)
            if value != spec.default or type(value) is not type(spec.default):
                problem = spec.check(value) if value is not None else "is null"
                if problem is not None:
                    self.note("invalid_prop_value", f"{owner}.{spec.name} {problem}; shown as stored.", block_id)
            props[spec.name] = value
        return props

    def _text_runs(self, element: Any) -> Iterator[tuple[Any, dict[str, Any] | None]]:
        txn = self.txn
        for child in element.children(txn):
            if isinstance(child, _RawText):
                yield from child.diff(txn)
            elif isinstance(child, _RawElement):
                yield child, None

    def read_inline(self, element: Any, block_id: str) -> list[InlineContent]:
        tokens: list[Any] = []
        for value, attrs in self._text_runs(element):
            if isinstance(value, str):
                if value:
                    if attrs:
                        styles, href = self.read_marks(attrs, block_id)
                        tokens.append((value, styles, href))
                    else:
                        tokens.append((value, {}, None))
                continue
            if not isinstance(value, _RawElement):
                self.note("unexpected_embed", "A non-text embed inside text was skipped.", block_id)
                continue
            tag = value.tag()
            if tag == _HARD_BREAK_TAG:
                tokens.append(_HARD_BREAK)
                continue
            spec = self.schema.inline.get(str(tag))
            if spec is None:
                self.note("unknown_inline_node", f"Inline node {tag!r} is not in the schema; skipped.", block_id)
                continue
            node_props = self.read_props(self.attributes(value), spec.props, block_id, str(tag))
            node_content: Any = None
            if spec.content == "styled":
                node_content = self.read_inline(value, block_id)
            elif spec.content == "plain":
                node_content = "".join(v for v, _ in self._text_runs(value) if isinstance(v, str))
            tokens.append(InlineNode(str(tag), node_props, node_content))
        return merge_tokens(tokens)

    def read_marks(self, attrs: dict[str, Any], block_id: str) -> tuple[dict[str, Any], str | None]:
        styles: dict[str, Any] = {}
        href: str | None = None
        for key, value in attrs.items():
            if value is None:
                continue
            name = _mark_name(key)
            if name == "link":
                href = value.get("href") if isinstance(value, dict) else None
                if not isinstance(href, str):
                    self.note("invalid_mark", "A link mark without an href was ignored.", block_id)
                    href = None
                continue
            kind = self.schema.styles.get(name)
            if kind == "boolean":
                styles[name] = True
            elif kind == "string":
                string_value = value.get("stringValue") if isinstance(value, dict) else None
                if isinstance(string_value, str):
                    styles[name] = string_value
                else:
                    self.note("invalid_mark", f"A {name} mark without a stringValue was ignored.", block_id)
            elif name not in IGNORED_MARKS:
                self.note(
                    "unknown_mark",
                    f"Mark {name!r} is not in the schema (the editor drops such text); kept without the mark.",
                    block_id,
                )
        return styles, href

    def read_table(self, table: Any, block_id: str) -> TableContent:
        rows: list[list[TableCell]] = []
        header: list[list[bool]] = []
        widths: list[int | float | None] = []
        for row in self.children(table):
            if not isinstance(row, _RawElement) or row.tag() != "tableRow":
                self.note("unexpected_node", "A table holds something other than rows; skipped.", block_id)
                continue
            cells: list[TableCell] = []
            flags: list[bool] = []
            for cell in self.children(row):
                tag = cell.tag() if isinstance(cell, _RawElement) else None
                if tag not in ("tableCell", "tableHeader"):
                    self.note("unexpected_node", "A table row holds something other than cells; skipped.", block_id)
                    continue
                attrs = self.attributes(cell)
                props = self.read_props(attrs, TABLE_CELL_PROPS, block_id, str(tag))
                if not rows:  # column widths come from the first row, as in BlockNote
                    colwidth = attrs.get("colwidth")
                    if isinstance(colwidth, list):
                        widths.extend(_number_or_none(width) for width in colwidth)
                    else:
                        span = props.get("colspan", 1)
                        widths.extend([None] * (span if isinstance(span, int) and span > 0 else 1))
                content: list[InlineContent] = []
                for paragraph in self.children(cell):
                    if not isinstance(paragraph, _RawElement):
                        continue
                    part = self.read_inline(paragraph, block_id)
                    if content and part:
                        last, first = content[-1], part[0]
                        if (
                            isinstance(last, StyledText)
                            and isinstance(first, StyledText)
                            and last.styles == first.styles
                        ):
                            last.text += "\n" + first.text
                            part = part[1:]
                    content.extend(part)
                cells.append(TableCell(content, props))
                flags.append(tag == "tableHeader")
            rows.append(cells)
            header.append(flags)
        header_rows = sum(1 for flags in header if all(flags)) or None
        header_cols = (
            sum(1 for i in range(len(header[0])) if all(len(f) > i and f[i] for f in header)) or None
            if header
            else None
        )
        return TableContent(rows, widths, header_rows, header_cols)


def _migrate_legacy_props(
    props: dict[str, Any], legacy: dict[str, Any], content_attrs: dict[str, Any], specs: dict[str, PropSpec]
) -> None:
    """BlockNote's ``moveColorAttributes`` migration, plus alignment when only the container has it."""
    colours = {
        name: value
        for name in ("textColor", "backgroundColor")
        if isinstance(value := legacy.get(name), str) and value != "default"
    }
    if colours:
        for name in ("textColor", "backgroundColor"):
            if name in specs:
                props[name] = colours.get(name, specs[name].default)
    alignment = legacy.get("textAlignment")
    if (
        "textAlignment" in specs
        and "textAlignment" not in content_attrs
        and specs["textAlignment"].check(alignment) is None
    ):
        props["textAlignment"] = alignment


def _mark_name(key: str) -> str:
    """y-prosemirror suffixes overlapping marks (comments) with ``--<8 chars hash>``."""
    if len(key) > 10 and key[-10:-8] == "--":
        return key[:-10]
    return key


def _number_or_none(value: Any) -> int | float | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def _node_name(node: Any) -> str:
    return f"<{node.tag()}>" if isinstance(node, _RawElement) else "text node"


def read_doc(doc: Doc, *, schema: Schema = DOCS_SCHEMA) -> ReadResult:
    """The blocks of a loaded pycrdt Doc, as the editor shows them, plus anomalies."""
    fragment = _fragment(doc)
    with doc.transaction() as txn:
        reader = _Reader(schema, txn._txn)
        blocks = reader.read_fragment(fragment)
    return ReadResult(blocks, reader.anomalies)


def read_update(
    update: bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES, schema: Schema = DOCS_SCHEMA
) -> ReadResult:
    """A Yjs update (bytes) → the blocks the editor shows, plus anomalies."""
    return read_doc(load_doc(update, max_bytes=max_bytes), schema=schema)


def read_base64(
    data: str | bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES, schema: Schema = DOCS_SCHEMA
) -> ReadResult:
    """Docs' stored content (base64 of a Yjs update) → blocks + anomalies."""
    return read_update(decode_base64_update(data, max_bytes=max_bytes), max_bytes=max_bytes, schema=schema)


# --- writing ------------------------------------------------------------------------------------------


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
    """Inline content → ``(text, mark attrs)`` runs, hard breaks and inline nodes, in order."""
    pieces: list[Any] = []

    def put(run: StyledText, href: str | None) -> None:
        attrs = _mark_attrs(run.styles, href, schema)
        for index, piece in enumerate(run.text.split("\n")):
            if index:
                pieces.append(_HARD_BREAK)
            if not piece:
                continue
            previous = pieces[-1] if pieces else None
            if isinstance(previous, tuple) and previous[1] == attrs:  # same marks: one run
                pieces[-1] = (previous[0] + piece, attrs)
            else:
                pieces.append((piece, attrs))

    for item in content:
        if isinstance(item, StyledText):
            put(item, None)
        elif isinstance(item, Link):
            for run in item.content:
                put(run, item.href)
        else:
            pieces.append(item)
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
            colspan = int(cell.props.get("colspan", 1) or 1)
            rowspan = int(cell.props.get("rowspan", 1) or 1)
            occupied.update(
                (r, c) for r in range(row_index, row_index + rowspan) for c in range(column, column + colspan)
            )
            attrs = _prop_attrs(cell.props, TABLE_CELL_PROPS)
            if colspan > 1:
                attrs["colwidth"] = [widths[column + i] if column + i < len(widths) else None for i in range(colspan)]
            elif column < len(widths) and widths[column]:
                attrs["colwidth"] = [widths[column]]
            tag = "tableHeader" if row_index < header_rows or cell_index < header_cols else "tableCell"
            cells.append((cell, tag, attrs))
            column += colspan
        layout.append(cells)
    return layout


class _EncodingWriter:
    """Blocks → Yjs items through ``StructEncoder`` (linear time, no index walks)."""

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
            if piece is _HARD_BREAK:
                last = encoder.element(_HARD_BREAK_TAG, origin=last, parent=element)
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
            last_row = encoder.element("tableRow", origin=last_row, parent=element)
            last_cell: ID | None = None
            for cell, tag, attrs in cells:
                last_cell = encoder.element(tag, origin=last_cell, parent=last_row)
                encoder.attributes(last_cell, attrs)
                paragraph = encoder.element("tableParagraph", parent=last_cell)
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
            group = encoder.element(_BLOCK_GROUP, origin=node, parent=container)
            self.blocks(block.children, parent=group)

    def blocks(self, blocks: list[Block], *, parent: ID | None, origin: ID | None = None) -> ID | None:
        """Sibling containers chained by origin; returns the last one's id."""
        last = origin
        for block in blocks:
            last = self.encoder.element(_BLOCK_CONTAINER, origin=last, parent=parent)
            self.fill_container(last, block)
        return last


class _ApiWriter:
    """The same items through the pycrdt API (index-based, so quadratic): a cross-check for the encoder."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def inline(self, element: XmlElement, content: Sequence[InlineContent]) -> None:
        text: XmlText | None = None
        offset = 0  # pycrdt text offsets are UTF-8 bytes
        for piece in _inline_pieces(content, self.schema):
            if isinstance(piece, tuple):
                value, attrs = piece
                if text is None:
                    text, offset = element.children.append(XmlText()), 0
                text.insert(offset, value, attrs or None)
                offset += len(value.encode("utf-8"))
                continue
            text = None
            if piece is _HARD_BREAK:
                element.children.append(XmlElement(_HARD_BREAK_TAG))
            else:
                spec = self.schema.inline[piece.type]
                node = element.children.append(XmlElement(piece.type, _prop_attrs(piece.props, spec.props)))
                if isinstance(piece.content, list):
                    self.inline(node, piece.content)

    def block(self, parent: XmlElement, index: int, block: Block) -> None:
        spec = self.schema.block(block.type)
        container = parent.children.insert(index, XmlElement(_BLOCK_CONTAINER, {"id": block.id}))
        node = container.children.append(XmlElement(block.type, _prop_attrs(block.props, spec.props)))
        if spec.content == "inline" and isinstance(block.content, list):
            self.inline(node, block.content)
        elif spec.content == "plain" and isinstance(block.content, list):
            text = "".join(run.text for run in block.content if isinstance(run, StyledText))
            if text:
                node.children.append(XmlText()).insert(0, text)
        elif spec.content == "table" and isinstance(block.content, TableContent):
            for cells in _cell_layout(block.content):
                row = node.children.append(XmlElement("tableRow"))
                for cell, tag, attrs in cells:
                    cell_element = row.children.append(XmlElement(tag, attrs))
                    self.inline(cell_element.children.append(XmlElement("tableParagraph")), cell.content)
        if block.children:
            group = container.children.append(XmlElement(_BLOCK_GROUP))
            for offset, child in enumerate(block.children):
                self.block(group, offset, child)


def _new_document_with_pycrdt_api(blocks: list[Block], *, schema: Schema = DOCS_SCHEMA) -> Doc:
    """``new_document`` written through pycrdt's own API, to cross-check the encoder in tests."""
    validate_blocks(blocks, schema)
    doc: Doc = Doc()
    with doc.transaction():
        group = doc.get(FRAGMENT_NAME, type=XmlFragment).children.append(XmlElement(_BLOCK_GROUP))
        writer = _ApiWriter(schema)
        for index, block in enumerate(blocks or [_empty_paragraph(schema)]):
            writer.block(group, index, block)
    return doc


def _empty_paragraph(schema: Schema) -> Block:
    return Block("paragraph", schema.block("paragraph").defaults(), [], [], new_block_id())


def new_document_update(blocks: list[Block], *, schema: Schema = DOCS_SCHEMA) -> bytes:
    """Blocks (validated first) → the full v1 update of a brand-new document with one root blockGroup.

    For a new Docs note only: never merge a fresh document into one that clients may hold (that
    makes a second root blockGroup and hides the new text).
    """
    validate_blocks(blocks, schema)
    encoder = StructEncoder(random.getrandbits(32), 0)
    writer = _EncodingWriter(schema, encoder)
    group = encoder.element(_BLOCK_GROUP, parent=FRAGMENT_NAME)
    writer.blocks(blocks or [_empty_paragraph(schema)], parent=group)
    return encoder.update()


def new_document(blocks: list[Block], *, schema: Schema = DOCS_SCHEMA) -> Doc:
    """A pycrdt Doc holding ``blocks`` under one root blockGroup."""
    doc: Doc = Doc()
    doc.apply_update(new_document_update(blocks, schema=schema))
    return doc


def with_fresh_ids(blocks: list[Block]) -> list[Block]:
    """A copy of the tree with new UUID v4 ids everywhere (safe to insert next to the originals).

    Content is shared with the originals (it is never mutated by the writers); props are copied.
    """
    return [
        Block(block.type, dict(block.props), block.content, with_fresh_ids(block.children), new_block_id())
        for block in blocks
    ]


# --- editing an existing document ----------------------------------------------------------------------


@dataclass(slots=True)
class _Located:
    container: XmlElement
    group: XmlElement
    index: int


class BlockNoteDocument:
    """A loaded document to read and edit; every edit returns the incremental update it made.

    Keeps the pycrdt Doc so that several edits, and remote updates (``apply_update``), compose.
    Edits validate everything first, then write: never a partial write. The first new block is
    placed with pycrdt (one index walk to find the spot); everything else is encoded as Yjs items
    chained after it, so an edit's cost does not grow with the document.
    """

    def __init__(self, doc: Doc | None = None, *, schema: Schema = DOCS_SCHEMA) -> None:
        self.doc: Doc = doc if doc is not None else Doc()
        self.schema = schema
        _fragment(self.doc)  # refuse a doc with other roots but no document-store, up front

    @classmethod
    def from_update(
        cls, update: bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES, schema: Schema = DOCS_SCHEMA
    ) -> BlockNoteDocument:
        return cls(load_doc(update, max_bytes=max_bytes), schema=schema)

    @classmethod
    def from_base64(
        cls, data: str | bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES, schema: Schema = DOCS_SCHEMA
    ) -> BlockNoteDocument:
        return cls.from_update(decode_base64_update(data, max_bytes=max_bytes), max_bytes=max_bytes, schema=schema)

    def apply_update(self, update: bytes) -> None:
        """Merge a remote update (e.g. a collaborator's edit) into this document."""
        try:
            self.doc.apply_update(bytes(update))
        except BaseException as error:
            if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
                raise
            raise InvalidYjsUpdateError(f"These bytes are not a Yjs update ({error}).") from None

    def read(self) -> ReadResult:
        return read_doc(self.doc, schema=self.schema)

    @property
    def blocks(self) -> list[Block]:
        return self.read().blocks

    def state_vector(self) -> bytes:
        return self.doc.get_state()

    def update(self) -> bytes:
        """The full state, as a v1 update."""
        return self.doc.get_update()

    def update_base64(self) -> str:
        return base64.b64encode(self.doc.get_update()).decode("ascii")

    # -- locating blocks --

    def _root_groups(self) -> list[XmlElement]:
        fragment = _fragment(self.doc)
        if fragment is None:
            return []
        return [c for c in fragment.children if isinstance(c, XmlElement) and c.tag == _BLOCK_GROUP]

    def _locate_all(self, wanted: set[str]) -> dict[str, _Located]:
        """Find containers by id, in the visible root group (one walk, stops when all are found)."""
        found: dict[str, _Located] = {}
        groups = self._root_groups()
        if not groups or not wanted:
            return found
        stack: list[XmlElement] = [groups[0]]
        with self.doc.transaction():
            while stack and len(found) < len(wanted):
                group = stack.pop()
                for index, child in enumerate(group.children):
                    if not isinstance(child, XmlElement) or child.tag != _BLOCK_CONTAINER:
                        continue
                    block_id = child.attributes.get("id")
                    if block_id in wanted:
                        found[block_id] = _Located(child, group, index)
                    for grandchild in child.children:
                        if isinstance(grandchild, XmlElement) and grandchild.tag == _BLOCK_GROUP:
                            stack.append(grandchild)
        return found

    def _locate(self, block_id: str) -> _Located:
        if not isinstance(block_id, str):
            raise UnknownBlockIdError(f"Block id {block_id!r} must be a string.")
        located = self._locate_all({block_id}).get(block_id)
        if located is None:
            raise UnknownBlockIdError(f"No block with id {block_id!r} in this document.", block_id=block_id)
        return located

    def existing_ids(self) -> set[str]:
        return {block.id for block in iter_blocks(self.read().blocks)}

    def _prepare(self, blocks: list[Block], keep_ids: bool) -> list[Block]:
        if not isinstance(blocks, list):
            validate_blocks(blocks, self.schema)  # raises the typed error
        prepared = blocks if keep_ids else with_fresh_ids(blocks)
        validate_blocks(prepared, self.schema, taken_ids=self.existing_ids() if keep_ids else ())
        return prepared

    # -- writing --

    def _write(self, place: Any, blocks: list[Block]) -> bytes:
        """Run ``place`` (pycrdt mutations that end by inserting one bare blockContainer, or None
        when there is nothing to place) in a transaction, then encode ``blocks`` after it.

        ``place`` returns True when it inserted the bare container for ``blocks[0]``.
        Returns the incremental update of the whole edit.
        """
        captured: list[bytes] = []
        subscription = self.doc.observe(lambda event: captured.append(event.update))
        try:
            with self.doc.transaction(origin="suite_ai"):
                placed = place()
            client = self.doc.client_id
            clock = decode_state_vector(self.doc.get_state()).get(client, 0)
            if placed and blocks:
                encoder = StructEncoder(client, clock)
                writer = _EncodingWriter(self.schema, encoder)
                first = (client, clock - 1)  # the bare container was the transaction's last item
                writer.fill_container(first, blocks[0])
                writer.blocks(blocks[1:], parent=None, origin=first)
                update = encoder.update()
                self.doc.apply_update(update)
                if decode_state_vector(self.doc.get_state()).get(client, 0) != encoder.clock:
                    raise RuntimeError("suite_ai.blocknote: an encoded update did not integrate (encoder bug)")
                captured.append(update)
        finally:
            self.doc.unobserve(subscription)
        if not captured:
            return b"\x00\x00"
        return captured[0] if len(captured) == 1 else merge_updates(*captured)

    def _write_new_root(self, blocks: list[Block]) -> bytes:
        """An empty document: create the one root blockGroup and the blocks, all encoded."""
        client = self.doc.client_id
        encoder = StructEncoder(client, decode_state_vector(self.doc.get_state()).get(client, 0))
        group = encoder.element(_BLOCK_GROUP, parent=FRAGMENT_NAME)
        _EncodingWriter(self.schema, encoder).blocks(blocks, parent=group)
        update = encoder.update()
        self.doc.apply_update(update)
        return update

    # -- edits --

    def insert_blocks(self, blocks: list[Block], *, after: str | None = None, keep_ids: bool = False) -> EditResult:
        """Insert after block ``after`` (same parent), or at the end of the document when None.

        New UUID v4 ids are given unless ``keep_ids``; then they must not clash with the document's.
        An empty document gets its root blockGroup here: only ever write into an empty doc that no
        other client is initialising at the same time.
        """
        prepared = self._prepare(blocks, keep_ids)
        anomalies: list[Anomaly] = []
        if after is not None:
            located = self._locate(after)
            target, index = located.group, located.index + 1
        else:
            groups = self._root_groups()
            if len(groups) > 1:
                anomalies.append(
                    Anomaly("multiple_root_block_groups", "Wrote into the first (visible) of several root blockGroups.")
                )
            if not groups:
                if not prepared:
                    return EditResult(b"\x00\x00", [], anomalies)
                return EditResult(self._write_new_root(prepared), [b.id for b in prepared], anomalies)
            target = groups[0]
            index = len(target.children)

        def place() -> bool:
            if not prepared:
                return False
            target.children.insert(index, XmlElement(_BLOCK_CONTAINER))
            return True

        return EditResult(self._write(place, prepared), [b.id for b in prepared], anomalies)

    def replace_blocks(
        self, first_id: str, last_id: str | None = None, blocks: list[Block] | None = None, *, keep_ids: bool = False
    ) -> EditResult:
        """Replace the sibling range ``first_id``…``last_id`` (inclusive, same parent) with ``blocks``.

        The replaced blocks' children go with them. Replacing every block of the document with
        nothing leaves one empty paragraph, as the editor would.
        """
        last_id = first_id if last_id is None else last_id
        prepared = self._prepare(blocks or [], keep_ids)
        located = self._locate_all({first_id, last_id})
        for wanted in (first_id, last_id):
            if wanted not in located:
                raise UnknownBlockIdError(f"No block with id {wanted!r} in this document.", block_id=wanted)
        first, last = located[first_id], located[last_id]
        if first.group != last.group:
            raise InvalidEditError(f"Blocks {first_id!r} and {last_id!r} are not siblings; cannot replace the range.")
        if last.index < first.index:
            raise InvalidEditError(f"Block {last_id!r} comes before {first_id!r}.")
        start, stop = first.index, last.index + 1
        group = first.group
        whole_group = stop - start == len(group.children)
        if not prepared and whole_group and group == self._root_groups()[0]:
            prepared = [_empty_paragraph(self.schema)]

        def place() -> bool:
            if not prepared and whole_group:  # a nested group left empty goes away with its blocks
                parent = group.parent
                assert isinstance(parent, XmlElement)
                position = next(i for i, child in enumerate(parent.children) if child == group)
                del parent.children[position]
                return False
            del group.children[start:stop]
            if not prepared:
                return False
            group.children.insert(start, XmlElement(_BLOCK_CONTAINER))
            return True

        return EditResult(self._write(place, prepared), [b.id for b in prepared])

    def append_children(self, parent_id: str, blocks: list[Block], *, keep_ids: bool = False) -> EditResult:
        """Append ``blocks`` as children of block ``parent_id`` (creating its child blockGroup if needed)."""
        prepared = self._prepare(blocks, keep_ids)
        located = self._locate(parent_id)
        if not prepared:
            return EditResult(b"\x00\x00", [])

        def place() -> bool:
            group = next(
                (c for c in located.container.children if isinstance(c, XmlElement) and c.tag == _BLOCK_GROUP),
                None,
            )
            if group is None:
                group = located.container.children.append(XmlElement(_BLOCK_GROUP))
            group.children.insert(len(group.children), XmlElement(_BLOCK_CONTAINER))
            return True

        return EditResult(self._write(place, prepared), [b.id for b in prepared])


# --- one-shot helpers (state in, incremental update out) ---------------------------------------------


def insert_blocks_update(
    update: bytes,
    blocks: list[Block],
    *,
    after: str | None = None,
    schema: Schema = DOCS_SCHEMA,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
) -> EditResult:
    """Current state (bytes) + blocks → incremental update inserting them after ``after`` / at the end."""
    return BlockNoteDocument.from_update(update, max_bytes=max_bytes, schema=schema).insert_blocks(blocks, after=after)


def replace_blocks_update(
    update: bytes,
    first_id: str,
    last_id: str | None,
    blocks: list[Block],
    *,
    schema: Schema = DOCS_SCHEMA,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
) -> EditResult:
    """Current state (bytes) → incremental update replacing the sibling range first…last."""
    document = BlockNoteDocument.from_update(update, max_bytes=max_bytes, schema=schema)
    return document.replace_blocks(first_id, last_id, blocks)


def append_children_update(
    update: bytes,
    parent_id: str,
    blocks: list[Block],
    *,
    schema: Schema = DOCS_SCHEMA,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
) -> EditResult:
    """Current state (bytes) → incremental update appending children to block ``parent_id``."""
    document = BlockNoteDocument.from_update(update, max_bytes=max_bytes, schema=schema)
    return document.append_children(parent_id, blocks)
