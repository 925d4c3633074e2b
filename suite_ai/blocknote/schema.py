"""The BlockNote schema (default blocks + what La Suite Docs adds) and validation against it.

Why validate: y-prosemirror deletes any node its schema does not know from the shared document, for
every connected client. Nothing is written unless the whole input passes ``validate_blocks``.
Prop names, order, defaults and types follow ``@blocknote/core`` 0.51.4, 0.54.2 and 0.55.0 (all three
checked by tests/interop) and Docs' block specs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import (
    DuplicateBlockIdError,
    InvalidBlockPropsError,
    InvalidBlocksError,
    InvalidInlineContentError,
    UnknownBlockTypeError,
)
from .model import (
    Block,
    InlineContent,
    InlineNode,
    Link,
    StyledText,
    TableCell,
    TableContent,
    header_counts,
    new_block_id,
    normalize_inline,
    normalize_plain,
)


class _Unset:
    """A prop whose default is JS ``undefined``: absent from JSON and from Yjs unless set."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()

#: Numbers are JS doubles in Yjs; integers beyond this would silently lose precision.
MAX_SAFE_INTEGER = 2**53 - 1


def is_utf8(text: str) -> bool:
    """False for strings with lone surrogates (from JSON escapes), which pycrdt cannot store."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


PropKind = Literal["string", "boolean", "integer", "number"]
ContentKind = Literal["inline", "plain", "table", "none"]


@dataclass(frozen=True, slots=True)
class PropSpec:
    name: str
    kind: PropKind
    default: Any = UNSET
    values: tuple[Any, ...] | None = None
    minimum: int | None = None

    def check(self, value: Any) -> str | None:
        """Why ``value`` is not valid for this prop, or None."""
        if self.kind == "string":
            ok = isinstance(value, str) and is_utf8(value)
        elif self.kind == "boolean":
            ok = isinstance(value, bool)
        elif self.kind == "integer":
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok:
            return f"must be a {self.kind}, got {type(value).__name__} {value!r}"
        if self.values is not None and value not in self.values:
            return f"must be one of {list(self.values)}, got {value!r}"
        if self.minimum is not None and value < self.minimum:
            return f"must be >= {self.minimum}, got {value!r}"
        if self.kind in ("integer", "number") and abs(value) > MAX_SAFE_INTEGER:
            return f"must be a safe JavaScript number, got {value!r}"
        return None


@dataclass(frozen=True, slots=True)
class BlockSpec:
    type: str
    props: tuple[PropSpec, ...]
    content: ContentKind

    @property
    def prop_map(self) -> dict[str, PropSpec]:
        return {prop.name: prop for prop in self.props}

    def defaults(self) -> dict[str, Any]:
        return {prop.name: prop.default for prop in self.props if prop.default is not UNSET}


@dataclass(frozen=True, slots=True)
class InlineSpec:
    type: str
    props: tuple[PropSpec, ...]
    content: Literal["none", "styled", "plain"]


@dataclass(frozen=True, repr=False)
class Schema:
    """Which blocks, inline nodes and styles an editor knows; writes are checked against it."""

    name: str
    blocks: Mapping[str, BlockSpec]
    inline: Mapping[str, InlineSpec]
    styles: Mapping[str, Literal["boolean", "string"]]
    _prop_maps: dict[str, dict[str, PropSpec]] = field(default_factory=dict, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"<Schema {self.name}: {len(self.blocks)} block types>"

    def block(self, block_type: str) -> BlockSpec:
        spec = self.blocks.get(block_type)
        if spec is None:
            raise UnknownBlockTypeError(
                f"Unknown block type {block_type!r}; the {self.name} schema knows {sorted(self.blocks)}."
            )
        return spec

    def prop_map(self, block_type: str) -> dict[str, PropSpec]:
        cached = self._prop_maps.get(block_type)
        if cached is None:
            cached = self.block(block_type).prop_map
            self._prop_maps[block_type] = cached
        return cached


_ALIGN = ("left", "center", "right", "justify")
BACKGROUND_COLOR = PropSpec("backgroundColor", "string", "default")
TEXT_COLOR = PropSpec("textColor", "string", "default")
TEXT_ALIGNMENT = PropSpec("textAlignment", "string", "left", _ALIGN)
DEFAULT_PROPS = (BACKGROUND_COLOR, TEXT_COLOR, TEXT_ALIGNMENT)
HEADING_LEVELS = (1, 2, 3, 4, 5, 6)

#: Table cell props, in the order BlockNote's JSON lists them.
TABLE_CELL_PROPS = (
    PropSpec("colspan", "integer", 1, minimum=1),
    PropSpec("rowspan", "integer", 1, minimum=1),
    BACKGROUND_COLOR,
    TEXT_COLOR,
    TEXT_ALIGNMENT,
)
TABLE_CELL_PROP_MAP = {prop.name: prop for prop in TABLE_CELL_PROPS}


def _media(*, alignment: bool, preview: bool, width: bool) -> tuple[PropSpec, ...]:
    props: list[PropSpec] = []
    if alignment:
        props.append(TEXT_ALIGNMENT)
    props += [
        BACKGROUND_COLOR,
        PropSpec("name", "string", ""),
        PropSpec("url", "string", ""),
        PropSpec("caption", "string", ""),
    ]
    if preview:
        props.append(PropSpec("showPreview", "boolean", True))
    if width:
        props.append(PropSpec("previewWidth", "number", UNSET))
    return tuple(props)


_DEFAULT_BLOCKS = (
    BlockSpec("paragraph", DEFAULT_PROPS, "inline"),
    BlockSpec(
        "heading",
        (
            *DEFAULT_PROPS,
            PropSpec("level", "integer", 1, HEADING_LEVELS),
            PropSpec("isToggleable", "boolean", False),
        ),
        "inline",
    ),
    BlockSpec("bulletListItem", DEFAULT_PROPS, "inline"),
    BlockSpec("numberedListItem", (*DEFAULT_PROPS, PropSpec("start", "integer", UNSET)), "inline"),
    BlockSpec("checkListItem", (*DEFAULT_PROPS, PropSpec("checked", "boolean", False)), "inline"),
    BlockSpec("toggleListItem", DEFAULT_PROPS, "inline"),
    BlockSpec("quote", (BACKGROUND_COLOR, TEXT_COLOR), "inline"),
    BlockSpec("codeBlock", (PropSpec("language", "string", "text"),), "plain"),
    BlockSpec("divider", (), "none"),
    BlockSpec("image", _media(alignment=True, preview=True, width=True), "none"),
    BlockSpec("video", _media(alignment=True, preview=True, width=True), "none"),
    BlockSpec("audio", _media(alignment=False, preview=True, width=False), "none"),
    BlockSpec("file", _media(alignment=False, preview=False, width=False), "none"),
    BlockSpec("table", (TEXT_COLOR,), "table"),
)

#: Blocks La Suite Docs adds (frontend ``BlockNoteEditor.tsx`` and y-provider ``blockSpecs``).
_DOCS_BLOCKS = (
    BlockSpec("callout", (TEXT_ALIGNMENT, BACKGROUND_COLOR, PropSpec("emoji", "string", "💡")), "inline"),
    BlockSpec(
        "pdf",
        (
            BACKGROUND_COLOR,
            PropSpec("caption", "string", ""),
            PropSpec("name", "string", ""),
            PropSpec("previewWidth", "number", UNSET),
            PropSpec("showPreview", "boolean", True),
            PropSpec("textAlignment", "string", "left"),
            PropSpec("url", "string", ""),
        ),
        "none",
    ),
    BlockSpec(
        "uploadLoader",
        (
            PropSpec("information", "string", ""),
            PropSpec("type", "string", "loading", ("loading", "warning")),
            PropSpec("blockUploadName", "string", ""),
            PropSpec("blockUploadShowPreview", "boolean", True),
            PropSpec("blockUploadType", "string", ""),
            PropSpec("blockUploadUrl", "string", ""),
        ),
        "none",
    ),
    BlockSpec("pageBreak", (), "none"),
)

_DOCS_INLINE = (
    InlineSpec(
        "interlinkingLinkInline",
        (
            PropSpec("docId", "string", ""),
            PropSpec("disabled", "boolean", False),
            PropSpec("trigger", "string", "/", ("/", "@")),
            PropSpec("title", "string", ""),
        ),
        "none",
    ),
)

_STYLES: dict[str, Literal["boolean", "string"]] = {
    "bold": "boolean",
    "italic": "boolean",
    "underline": "boolean",
    "strike": "boolean",
    "code": "boolean",
    "textColor": "string",
    "backgroundColor": "string",
}

#: Plain BlockNote (``BlockNoteSchema.create()`` defaults).
BLOCKNOTE_SCHEMA = Schema("BlockNote", {spec.type: spec for spec in _DEFAULT_BLOCKS}, {}, dict(_STYLES))
#: What the La Suite Docs editor knows: the defaults plus callout, pdf, uploadLoader, pageBreak and
#: the ``interlinkingLinkInline`` inline node. The default for every function here.
DOCS_SCHEMA = Schema(
    "La Suite Docs",
    {spec.type: spec for spec in (*_DEFAULT_BLOCKS, *_DOCS_BLOCKS)},
    {spec.type: spec for spec in _DOCS_INLINE},
    dict(_STYLES),
)

#: Marks that the Docs editor keeps in Yjs but that BlockNote leaves out of its JSON (comments).
IGNORED_MARKS = frozenset({"comment"})


# --- building blocks ----------------------------------------------------------------------------


def make_block(
    block_type: str,
    content: list[InlineContent] | TableContent | str | None = None,
    children: Iterable[Block] = (),
    *,
    id: str | None = None,
    schema: Schema = DOCS_SCHEMA,
    **props: Any,
) -> Block:
    """A validated block with default props filled in; ``content`` may be a plain string."""
    spec = schema.block(block_type)
    if isinstance(content, str):
        content = [StyledText(content)] if content else []
    if content is None and spec.content in ("inline", "plain"):
        content = []
    if content is None and spec.content == "table":
        content = TableContent()
    block = Block(block_type, {**spec.defaults(), **props}, content, list(children), id or new_block_id())
    validate_blocks([block], schema)
    return block


# --- validation ------------------------------------------------------------------------------------


def validate_blocks(blocks: list[Block], schema: Schema = DOCS_SCHEMA, *, taken_ids: Iterable[str] = ()) -> None:
    """Raise a typed ``InvalidBlocksError`` subclass unless every block can be written safely.

    Checks block types, prop names/types/values, content shape, styles, link hrefs, inline nodes and
    that ids are unique (also against ``taken_ids``, the ids already in the target document).
    """
    if not isinstance(blocks, list):
        raise InvalidBlocksError("Blocks must be a list.")
    seen: set[str] = set(taken_ids)
    stack: list[tuple[Block, str]] = [(block, f"[{index}]") for index, block in enumerate(blocks)]
    stack.reverse()
    while stack:
        block, path = stack.pop()
        _validate_block(block, schema, path)
        if block.id in seen:
            raise DuplicateBlockIdError(f"Block id {block.id!r} is used twice.", block_id=block.id, path=path)
        seen.add(block.id)
        for index in range(len(block.children) - 1, -1, -1):
            stack.append((block.children[index], f"{path}.children[{index}]"))


def _validate_block(block: Any, schema: Schema, path: str) -> None:
    if not isinstance(block, Block):
        raise InvalidBlocksError(f"{path} is not a Block.", path=path)
    if not isinstance(block.id, str) or not block.id or not is_utf8(block.id):
        raise InvalidBlocksError(f"{path}: block id must be a non-empty string.", path=path)
    if not isinstance(block.type, str):
        raise UnknownBlockTypeError(f"{path}: block type must be a string.", block_id=block.id, path=path)
    try:
        spec = schema.block(block.type)
    except UnknownBlockTypeError as error:
        raise UnknownBlockTypeError(f"{path}: {error.message}", block_id=block.id, path=path) from None
    validate_props(block.props, schema.prop_map(block.type), f"{path}.props", block.id, block.type)
    if not isinstance(block.children, list):
        raise InvalidBlocksError(f"{path}.children must be a list.", block_id=block.id, path=path)
    content = block.content
    where = f"{path}.content"
    if spec.content == "none":
        if content not in (None, []):
            raise InvalidInlineContentError(
                f"{where}: a {block.type} block has no content.", block_id=block.id, path=where
            )
    elif spec.content == "table":
        if not isinstance(content, TableContent):
            raise InvalidInlineContentError(f"{where}: a table needs table content.", block_id=block.id, path=where)
        _validate_table(content, schema, where, block.id)
    else:
        if not isinstance(content, list):
            raise InvalidInlineContentError(
                f"{where}: a {block.type} block needs a list of inline content.", block_id=block.id, path=where
            )
        _validate_inline(content, schema, where, block.id, plain=spec.content == "plain")


def validate_props(props: Any, specs: Mapping[str, PropSpec], where: str, block_id: str | None, owner: str) -> None:
    """Raise ``InvalidBlockPropsError`` for a non-object, an unknown prop name or a wrong value."""
    if not isinstance(props, dict):
        raise InvalidBlockPropsError(f"{where} must be an object.", block_id=block_id, path=where)
    for name, value in props.items():
        spec = specs.get(name)
        if spec is None:
            raise InvalidBlockPropsError(
                f"{where}: {owner} has no prop {name!r} (known: {sorted(specs)}).", block_id=block_id, path=where
            )
        problem = spec.check(value)
        if problem is not None:
            raise InvalidBlockPropsError(f"{where}.{name} {problem}.", block_id=block_id, path=f"{where}.{name}")


def _validate_styles(styles: Any, schema: Schema, where: str, block_id: str | None) -> None:
    if not isinstance(styles, dict):
        raise InvalidInlineContentError(f"{where}.styles must be an object.", block_id=block_id, path=where)
    for name, value in styles.items():
        kind = schema.styles.get(name)
        if kind is None:
            raise InvalidInlineContentError(
                f"{where}: unknown style {name!r} (known: {sorted(schema.styles)}).", block_id=block_id, path=where
            )
        if kind == "boolean" and not isinstance(value, bool):
            raise InvalidInlineContentError(f"{where}.styles.{name} must be a boolean.", block_id=block_id, path=where)
        if kind == "string" and not isinstance(value, str):
            raise InvalidInlineContentError(f"{where}.styles.{name} must be a string.", block_id=block_id, path=where)


def _validate_text(run: Any, schema: Schema, where: str, block_id: str | None) -> None:
    if not isinstance(run, StyledText) or not isinstance(run.text, str):
        raise InvalidInlineContentError(f"{where} must be a text run.", block_id=block_id, path=where)
    if not is_utf8(run.text):
        raise InvalidInlineContentError(f"{where}: text is not valid Unicode.", block_id=block_id, path=where)
    _validate_styles(run.styles, schema, where, block_id)


def _validate_inline(content: list[Any], schema: Schema, where: str, block_id: str | None, *, plain: bool) -> None:
    for index, item in enumerate(content):
        at = f"{where}[{index}]"
        if isinstance(item, StyledText):
            _validate_text(item, schema, at, block_id)
            if plain and any(item.styles.values()):
                raise InvalidInlineContentError(
                    f"{at}: plain content (code) has no styles.", block_id=block_id, path=at
                )
        elif plain:
            raise InvalidInlineContentError(f"{at}: plain content (code) holds text only.", block_id=block_id, path=at)
        elif isinstance(item, Link):
            if not isinstance(item.href, str) or not item.href or not is_utf8(item.href):
                raise InvalidInlineContentError(f"{at}.href must be a non-empty string.", block_id=block_id, path=at)
            if not isinstance(item.content, list):
                raise InvalidInlineContentError(f"{at}.content must be a list.", block_id=block_id, path=at)
            for run_index, run in enumerate(item.content):
                _validate_text(run, schema, f"{at}.content[{run_index}]", block_id)
        elif isinstance(item, InlineNode):
            spec = schema.inline.get(item.type) if isinstance(item.type, str) else None
            if spec is None:
                raise InvalidInlineContentError(
                    f"{at}: unknown inline content type {item.type!r}.", block_id=block_id, path=at
                )
            validate_props(item.props, {prop.name: prop for prop in spec.props}, f"{at}.props", block_id, item.type)
            if spec.content == "none" and item.content not in (None, [], ""):
                raise InvalidInlineContentError(f"{at}: {item.type} has no content.", block_id=block_id, path=at)
        else:
            raise InvalidInlineContentError(f"{at} is not inline content.", block_id=block_id, path=at)


def _validate_table(table: TableContent, schema: Schema, where: str, block_id: str | None) -> None:
    if not isinstance(table.rows, list) or not table.rows:
        raise InvalidInlineContentError(f"{where}.rows must be a non-empty list.", block_id=block_id, path=where)
    for name in ("header_rows", "header_cols"):
        value = getattr(table, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise InvalidInlineContentError(f"{where}.{name} must be a count.", block_id=block_id, path=where)
    if not isinstance(table.column_widths, list) or any(
        width is not None and (isinstance(width, bool) or not isinstance(width, int | float) or width <= 0)
        for width in table.column_widths
    ):
        raise InvalidInlineContentError(
            f"{where}.columnWidths must hold positive numbers or nulls.", block_id=block_id, path=where
        )
    for row_index, row in enumerate(table.rows):
        if not isinstance(row, list) or not row:
            raise InvalidInlineContentError(
                f"{where}.rows[{row_index}] must be a non-empty list of cells.", block_id=block_id, path=where
            )
        for cell_index, cell in enumerate(row):
            at = f"{where}.rows[{row_index}].cells[{cell_index}]"
            if not isinstance(cell, TableCell):
                raise InvalidInlineContentError(f"{at} must be a table cell.", block_id=block_id, path=at)
            validate_props(cell.props, TABLE_CELL_PROP_MAP, f"{at}.props", block_id, "tableCell")
            if not isinstance(cell.content, list):
                raise InvalidInlineContentError(f"{at}.content must be a list.", block_id=block_id, path=at)
            _validate_inline(cell.content, schema, f"{at}.content", block_id, plain=False)


def normalize_block(block: Block, schema: Schema = DOCS_SCHEMA) -> Block:
    """The block as BlockNote shows it after a round trip: runs merged, plain content flattened."""
    spec = schema.blocks.get(block.type)
    content = block.content
    if isinstance(content, TableContent):
        content = normalize_table(content)
    elif isinstance(content, list):
        content = (
            normalize_plain(content) if spec is not None and spec.content == "plain" else normalize_inline(content)
        )
    return Block(block.type, dict(block.props), content, [normalize_block(c, schema) for c in block.children], block.id)


def normalize_table(table: TableContent) -> TableContent:
    """Header counts and column widths the way BlockNote reads them back from the cells it wrote."""
    rows = [[TableCell(normalize_inline(cell.content), dict(cell.props)) for cell in row] for row in table.rows]
    written_rows, written_cols = table.header_rows or 0, table.header_cols or 0
    header = [[r < written_rows or c < written_cols for c in range(len(row))] for r, row in enumerate(rows)]
    header_rows, header_cols = header_counts(header)
    widths: list[int | float | None] = []
    given = table.column_widths
    column = 0
    for cell in rows[0] if rows else []:
        span = cell.spans()[0]
        if span > 1:
            widths.extend(given[column + i] if column + i < len(given) else None for i in range(span))
        else:
            widths.append(given[column] if column < len(given) and given[column] else None)
        column += span
    return TableContent(rows, widths, header_rows, header_cols)
