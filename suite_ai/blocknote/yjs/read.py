"""Read a BlockNote document from Yjs: decode the bytes, then walk the tree as the editor renders it.

Reading never writes, and never refuses a document that the editor would show: whatever is odd
(a second root blockGroup, an unknown block type, a wrong prop type, the older layout) is read as
the editor shows it and reported as an ``Anomaly``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, XmlFragment

from ..errors import InvalidBase64Error, InvalidYjsUpdateError, MissingDocumentStoreError, YDocTooLargeError
from ..model import (
    HARD_BREAK,
    Block,
    InlineContent,
    InlineNode,
    StyledText,
    TableCell,
    TableContent,
    header_counts,
    merge_tokens,
    new_block_id,
)
from ..schema import DOCS_SCHEMA, IGNORED_MARKS, TABLE_CELL_PROPS, UNSET, PropSpec, Schema
from .guard import UpdateLimits, check_update
from .layout import (
    BLOCK_CONTAINER,
    BLOCK_GROUP,
    DEFAULT_MAX_UPDATE_BYTES,
    FRAGMENT_NAME,
    HARD_BREAK_TAG,
    TABLE_CELL,
    TABLE_HEADER,
    TABLE_ROW,
)
from .pycrdt_adapter import NativeNode, NativeTree, native_tree


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


def load_doc(update: bytes, *, max_bytes: int = DEFAULT_MAX_UPDATE_BYTES, limits: UpdateLimits | None = None) -> Doc:
    """A pycrdt Doc from a v1 update; typed errors for oversized, undecodable or too complex bytes.

    ``limits`` (default: ``UpdateLimits(max_bytes=max_bytes)``) bound the update; ``guard.check_update``
    enforces them before pycrdt sees a byte, because some inputs crash pycrdt outright.
    """
    if not isinstance(update, bytes | bytearray | memoryview):
        raise InvalidYjsUpdateError("A Yjs update must be bytes.")
    update = bytes(update)
    limits = limits or UpdateLimits(max_bytes=max_bytes)
    if len(update) > limits.max_bytes:
        raise YDocTooLargeError(f"The Yjs document is {len(update)} bytes, over the {limits.max_bytes} byte limit.")
    if not update:
        raise InvalidYjsUpdateError("The Yjs update is empty (an empty document is b'\\x00\\x00').")
    check_update(update, limits)
    doc: Doc = Doc()
    try:
        doc.apply_update(update)
    except BaseException as error:
        # yrs reports a bad update as ValueError; older yrs panicked instead, and pyo3 turns a
        # panic into PanicException, a BaseException. Either way: a typed error, not a dead worker.
        if isinstance(error, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        raise InvalidYjsUpdateError(f"These bytes are not a Yjs update ({error}).") from None
    return doc


def document_store(doc: Doc) -> XmlFragment | None:
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

    Works on native nodes (``NativeTree``) because a read visits every node of the document.
    """

    def __init__(self, schema: Schema, tree: NativeTree) -> None:
        self.schema = schema
        self.tree = tree
        self.children = tree.children
        self.attributes = tree.attributes
        self.tag = tree.tag
        self.anomalies: list[Anomaly] = []

    def note(self, code: str, message: str, block_id: str | None = None) -> None:
        self.anomalies.append(Anomaly(code, message, block_id))

    def node_name(self, node: NativeNode) -> str:
        tag = self.tag(node)
        return "text node" if tag is None else f"<{tag}>"

    def read_fragment(self, fragment: XmlFragment | None) -> list[Block]:
        if fragment is None:
            self.note("empty_document", f"The document has no {FRAGMENT_NAME!r} content.")
            return []
        groups: list[NativeNode] = []
        for child in self.tree.root(fragment):
            if self.tag(child) == BLOCK_GROUP:
                groups.append(child)
            else:
                self.note(
                    "unexpected_root_node", f"The fragment holds a {self.node_name(child)} outside any blockGroup."
                )
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

    def read_group(self, group: NativeNode) -> list[Block]:
        blocks: list[Block] = []
        for child in self.children(group):
            tag = self.tag(child)
            if tag is None:
                self.note("unexpected_node", "Text directly inside a blockGroup was skipped.")
            elif tag == BLOCK_CONTAINER:
                blocks.append(self.read_container(child))
            elif tag == BLOCK_GROUP:
                self.note("unexpected_node", "A blockGroup directly inside a blockGroup was flattened.")
                blocks.extend(self.read_group(child))
            else:
                blocks.append(self.read_opaque(child, tag))
        return blocks

    def read_opaque(self, element: NativeNode, tag: str) -> Block:
        """A block-level node this schema does not know (e.g. multi-column): kept, flagged, never written."""
        attrs = self.attributes(element)
        block_id = attrs.pop("id", None)
        block_id = block_id if isinstance(block_id, str) and block_id else new_block_id()
        self.note("unknown_block_type", f"Block type {tag!r} is not in the {self.schema.name} schema.", block_id)
        children: list[Block] = []
        for child in self.children(element):
            child_tag = self.tag(child)
            if child_tag == BLOCK_CONTAINER:
                children.append(self.read_container(child))
            elif child_tag == BLOCK_GROUP:
                children.extend(self.read_group(child))
            elif child_tag is not None:
                children.append(self.read_opaque(child, child_tag))
        return Block(tag, {k: v for k, v in attrs.items() if v is not None}, None, children, block_id)

    def read_container(self, container: NativeNode) -> Block:
        container_attrs = self.attributes(container)
        raw_id = container_attrs.pop("id", None)
        if isinstance(raw_id, str) and raw_id:
            block_id = raw_id
        else:
            block_id = new_block_id()
            self.note("missing_block_id", "A block has no id; the editor gives it a new one on load.", block_id)
        content_node: NativeNode = None
        block_type = ""
        children: list[Block] = []
        for child in self.children(container):
            tag = self.tag(child)
            if tag is None:
                self.note("unexpected_node", "Text directly inside a blockContainer was skipped.", block_id)
            elif tag == BLOCK_GROUP:
                children.extend(self.read_group(child))
            elif content_node is None:
                content_node, block_type = child, tag
            else:
                self.note("unexpected_node", f"Extra node {tag!r} in a block was skipped.", block_id)
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
        spec = self.schema.blocks.get(block_type)
        if spec is None:
            opaque = self.read_opaque(content_node, block_type)
            return Block(block_type, opaque.props, None, children + opaque.children, block_id)
        content_attrs = self.attributes(content_node)
        props = self.read_props(content_attrs, spec.props, block_id, block_type)
        if legacy:
            _migrate_legacy_props(props, legacy, content_attrs, self.schema.prop_map(block_type))
        content: Any
        if spec.content == "inline":
            content = self.read_inline(content_node, block_id)
        elif spec.content == "plain":
            text = "".join(run for run, _ in self.tree.runs(content_node) if isinstance(run, str))
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

    def read_inline(self, element: NativeNode, block_id: str) -> list[InlineContent]:
        tokens: list[Any] = []
        for value, attrs in self.tree.runs(element):
            if isinstance(value, str):
                if value:
                    if attrs:
                        styles, href = self.read_marks(attrs, block_id)
                        tokens.append((value, styles, href))
                    else:
                        tokens.append((value, {}, None))
                continue
            tag = self.tag(value)
            if tag is None:
                self.note("unexpected_embed", "A non-text embed inside text was skipped.", block_id)
                continue
            if tag == HARD_BREAK_TAG:
                tokens.append(HARD_BREAK)
                continue
            spec = self.schema.inline.get(tag)
            if spec is None:
                self.note("unknown_inline_node", f"Inline node {tag!r} is not in the schema; skipped.", block_id)
                continue
            node_props = self.read_props(self.attributes(value), spec.props, block_id, tag)
            node_content: Any = None
            if spec.content == "styled":
                node_content = self.read_inline(value, block_id)
            elif spec.content == "plain":
                node_content = "".join(v for v, _ in self.tree.runs(value) if isinstance(v, str))
            tokens.append(InlineNode(tag, node_props, node_content))
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

    def read_table(self, table: NativeNode, block_id: str) -> TableContent:
        rows: list[list[TableCell]] = []
        header: list[list[bool]] = []
        widths: list[int | float | None] = []
        for row in self.children(table):
            if self.tag(row) != TABLE_ROW:
                self.note("unexpected_node", "A table holds something other than rows; skipped.", block_id)
                continue
            cells: list[TableCell] = []
            flags: list[bool] = []
            for node in self.children(row):
                tag = self.tag(node)
                if tag not in (TABLE_CELL, TABLE_HEADER):
                    self.note("unexpected_node", "A table row holds something other than cells; skipped.", block_id)
                    continue
                attrs = self.attributes(node)
                cell = TableCell([], self.read_props(attrs, TABLE_CELL_PROPS, block_id, str(tag)))
                if not rows:  # column widths come from the first row, as in BlockNote
                    colwidth = attrs.get("colwidth")
                    if isinstance(colwidth, list):
                        widths.extend(_number_or_none(width) for width in colwidth)
                    else:
                        widths.extend([None] * cell.spans()[0])
                content = cell.content
                for paragraph in self.children(node):
                    if self.tag(paragraph) is None:
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
                cells.append(cell)
                flags.append(tag == TABLE_HEADER)
            rows.append(cells)
            header.append(flags)
        return TableContent(rows, widths, *header_counts(header))


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


def read_doc(doc: Doc, *, schema: Schema = DOCS_SCHEMA) -> ReadResult:
    """The blocks of a loaded pycrdt Doc, as the editor shows them, plus anomalies."""
    fragment = document_store(doc)
    with native_tree(doc) as tree:
        reader = _Reader(schema, tree)
        blocks = reader.read_fragment(fragment)
    return ReadResult(blocks, reader.anomalies)


def read_update(
    update: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
    schema: Schema = DOCS_SCHEMA,
    limits: UpdateLimits | None = None,
) -> ReadResult:
    """A Yjs update (bytes) → the blocks the editor shows, plus anomalies."""
    return read_doc(load_doc(update, max_bytes=max_bytes, limits=limits), schema=schema)


def read_base64(
    data: str | bytes,
    *,
    max_bytes: int = DEFAULT_MAX_UPDATE_BYTES,
    schema: Schema = DOCS_SCHEMA,
    limits: UpdateLimits | None = None,
) -> ReadResult:
    """Docs' stored content (base64 of a Yjs update) → blocks + anomalies."""
    limits = limits or UpdateLimits(max_bytes=max_bytes)
    update = decode_base64_update(data, max_bytes=limits.max_bytes)
    return read_update(update, schema=schema, limits=limits)
