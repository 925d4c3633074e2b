"""Typed BlockNote blocks, shaped like BlockNote's own JSON so that conversion is one-to-one.

A hard break is ``"\\n"`` inside a text run, as in BlockNote JSON. ``normalize_inline`` merges runs the
way BlockNote's ``yDocToBlocks`` does, so a tree read back from Yjs compares equal to what the editor
shows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from .errors import BlocksTooDeepError


def new_block_id() -> str:
    """A fresh block id: a UUID v4 string, like BlockNote's UniqueID extension."""
    return str(uuid.uuid4())


@dataclass(slots=True)
class StyledText:
    """A run of text with BlockNote styles: ``{"bold": True}``, ``{"textColor": "red"}``…"""

    text: str
    styles: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Link:
    """A link; in Yjs it is a ``link`` mark on the text runs it wraps."""

    href: str
    content: list[StyledText] = field(default_factory=list)


@dataclass(slots=True)
class InlineNode:
    """Custom inline content (Docs' ``interlinkingLinkInline``): an inline XmlElement with props."""

    type: str
    props: dict[str, Any] = field(default_factory=dict)
    content: list[StyledText] | str | None = None


InlineContent: TypeAlias = StyledText | Link | InlineNode


@dataclass(slots=True)
class TableCell:
    content: list[InlineContent] = field(default_factory=list)
    props: dict[str, Any] = field(default_factory=dict)

    def spans(self) -> tuple[int, int]:
        """(colspan, rowspan), 1 for a missing or unusable value (props read from a document are unchecked)."""
        colspan, rowspan = self.props.get("colspan", 1), self.props.get("rowspan", 1)
        return (
            colspan if isinstance(colspan, int) and not isinstance(colspan, bool) and colspan > 0 else 1,
            rowspan if isinstance(rowspan, int) and not isinstance(rowspan, bool) and rowspan > 0 else 1,
        )


@dataclass(slots=True)
class TableContent:
    """``rows[r][c]``; a cell is a header when its row < header_rows or its column < header_cols."""

    rows: list[list[TableCell]] = field(default_factory=list)
    column_widths: list[int | float | None] = field(default_factory=list)
    header_rows: int | None = None
    header_cols: int | None = None


def header_counts(header: list[list[bool]]) -> tuple[int | None, int | None]:
    """Header rows and columns as BlockNote reads them from cell kinds (``header[r][c]``: a tableHeader).

    A header row is a row of header cells only, a header column likewise; none is None, not 0.
    """
    rows = sum(1 for flags in header if all(flags)) or None
    cols = (
        sum(1 for i in range(len(header[0])) if all(len(flags) > i and flags[i] for flags in header)) or None
        if header
        else None
    )
    return rows, cols


BlockContent: TypeAlias = list[InlineContent] | TableContent | None


@dataclass(slots=True)
class Block:
    """One block: its props are complete (defaults filled in), like the editor's ``editor.document``."""

    type: str
    props: dict[str, Any] = field(default_factory=dict)
    content: BlockContent = None
    children: list[Block] = field(default_factory=list)
    id: str = field(default_factory=new_block_id)

    def walk(self) -> list[Block]:
        """This block and all its descendants, depth first, in document order."""
        out: list[Block] = []
        stack = [self]
        while stack:
            block = stack.pop()
            out.append(block)
            stack.extend(reversed(block.children))
        return out

    def plain_text(self) -> str:
        """The block's own text (not its children's), hard breaks as newlines."""
        if isinstance(self.content, TableContent):
            return "\n".join(" | ".join(inline_plain_text(cell.content) for cell in row) for row in self.content.rows)
        return inline_plain_text(self.content or [])


def iter_blocks(blocks: list[Block]) -> list[Block]:
    """Every block of a tree, depth first, in document order."""
    out: list[Block] = []
    for block in blocks:
        out.extend(block.walk())
    return out


def inline_plain_text(content: list[InlineContent]) -> str:
    parts: list[str] = []
    for item in content:
        if isinstance(item, StyledText):
            parts.append(item.text)
        elif isinstance(item, Link):
            parts.extend(run.text for run in item.content)
        elif isinstance(item.content, str):
            parts.append(item.content)
        elif item.content:
            parts.extend(run.text for run in item.content)
        else:
            parts.append(str(item.props.get("title") or ""))
    return "".join(parts)


# --- normalization, the way BlockNote's contentNodeToInlineContent merges ProseMirror nodes -----------

#: The token for a hard break (``"\\n"`` in a text run, a ``hardBreak`` node in Yjs) in token lists.
HARD_BREAK = object()


def add_text_tokens(tokens: list[Any], text: str, styles: dict[str, Any], href: str | None) -> None:
    """Append one run as tokens: each line a ``(text, styles, href)`` tuple, ``HARD_BREAK`` between lines."""
    if "\n" not in text:
        if text:
            tokens.append((text, styles, href))
        return
    for index, piece in enumerate(text.split("\n")):
        if index:
            tokens.append(HARD_BREAK)
        if piece:
            tokens.append((piece, styles, href))


def inline_tokens(content: Iterable[InlineContent]) -> list[Any]:
    """ProseMirror-like inline nodes: (text, styles, href) tuples, hard breaks and inline nodes.

    Styles that are off (``False``, ``""``) are dropped: BlockNote has no mark for them.
    """
    tokens: list[Any] = []
    for item in content:
        if isinstance(item, StyledText):
            add_text_tokens(tokens, item.text, _styles_on(item.styles), None)
        elif isinstance(item, Link):
            for run in item.content:
                add_text_tokens(tokens, run.text, _styles_on(run.styles), item.href)
        else:
            tokens.append(item)
    return tokens


def _styles_on(styles: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in styles.items() if value is not False and value != ""}


def merge_tokens(tokens: list[Any]) -> list[InlineContent]:
    """BlockNote's merge: same-style neighbours join, a hard break appends "\\n" to what precedes it."""
    out: list[InlineContent] = []
    current: StyledText | Link | None = None
    for token in tokens:
        if token is HARD_BREAK:
            if current is None:
                current = StyledText("\n", {})
            elif isinstance(current, StyledText):
                current.text += "\n"
            else:
                current.content[-1].text += "\n"
            continue
        if not isinstance(token, tuple):
            if current is not None:
                out.append(current)
                current = None
            out.append(token)
            continue
        text, styles, href = token
        if current is None:
            current = StyledText(text, dict(styles)) if href is None else Link(href, [StyledText(text, dict(styles))])
        elif isinstance(current, StyledText):
            if href is None and current.styles == styles:
                current.text += text
            else:
                out.append(current)
                current = (
                    StyledText(text, dict(styles)) if href is None else Link(href, [StyledText(text, dict(styles))])
                )
        elif href is not None and current.href == href:
            last = current.content[-1]
            if last.styles == styles:
                last.text += text
            else:
                current.content.append(StyledText(text, dict(styles)))
        else:
            out.append(current)
            current = StyledText(text, dict(styles)) if href is None else Link(href, [StyledText(text, dict(styles))])
    if current is not None:
        out.append(current)
    return out


def normalize_inline(content: list[InlineContent]) -> list[InlineContent]:
    """The inline content as the editor shows it after a Yjs round trip (runs merged, empties dropped)."""
    return merge_tokens(inline_tokens(content))


def normalize_plain(content: list[InlineContent]) -> list[InlineContent]:
    """Plain content (codeBlock): one unstyled run, or nothing."""
    text = inline_plain_text(content)
    return [StyledText(text, {})] if text else []


def block_depth(blocks: Iterable[Any]) -> int:
    """How deep blocks nest (1: none has children), for ``Block`` trees and BlockNote JSON alike.

    With an explicit stack: the point is to measure input before anything recurses over it.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(block, 1) for block in blocks]
    while stack:
        block, depth = stack.pop()
        deepest = max(deepest, depth)
        children = block.get("children") if isinstance(block, dict) else getattr(block, "children", None)
        if isinstance(children, list):
            stack.extend((child, depth + 1) for child in children)
    return deepest


def check_block_depth(blocks: Iterable[Any], max_depth: int) -> None:
    """Raise ``BlocksTooDeepError`` when ``blocks`` nest deeper than ``max_depth`` levels."""
    if block_depth(blocks) > max_depth:
        raise BlocksTooDeepError(f"Blocks are nested deeper than the limit of {max_depth} levels.")
