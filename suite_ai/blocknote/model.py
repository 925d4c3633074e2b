"""Typed BlockNote blocks, shaped like BlockNote's own JSON so that conversion is one-to-one.

A hard break is ``"\\n"`` inside a text run, as in BlockNote JSON. ``normalize_inline`` merges runs the
way BlockNote's ``yDocToBlocks`` does, so a tree read back from Yjs compares equal to what the editor
shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, TypeAlias


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


@dataclass(slots=True)
class TableContent:
    """``rows[r][c]``; a cell is a header when its row < header_rows or its column < header_cols."""

    rows: list[list[TableCell]] = field(default_factory=list)
    column_widths: list[int | float | None] = field(default_factory=list)
    header_rows: int | None = None
    header_cols: int | None = None


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

_HARD_BREAK = object()


def _tokens(content: list[InlineContent]) -> list[Any]:
    """ProseMirror-like inline nodes: (text, styles, href) tuples, hard breaks and inline nodes."""
    tokens: list[Any] = []

    def text_tokens(run: StyledText, href: str | None) -> None:
        styles = {name: value for name, value in run.styles.items() if value is not False and value != ""}
        if "\n" not in run.text:
            if run.text:
                tokens.append((run.text, styles, href))
            return
        for index, piece in enumerate(run.text.split("\n")):
            if index:
                tokens.append(_HARD_BREAK)
            if piece:
                tokens.append((piece, styles, href))

    for item in content:
        if isinstance(item, StyledText):
            text_tokens(item, None)
        elif isinstance(item, Link):
            for run in item.content:
                text_tokens(run, item.href)
        else:
            tokens.append(item)
    return tokens


def merge_tokens(tokens: list[Any]) -> list[InlineContent]:
    """BlockNote's merge: same-style neighbours join, a hard break appends "\\n" to what precedes it."""
    out: list[InlineContent] = []
    current: StyledText | Link | None = None
    for token in tokens:
        if token is _HARD_BREAK:
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
    return merge_tokens(_tokens(content))


def normalize_plain(content: list[InlineContent]) -> list[InlineContent]:
    """Plain content (codeBlock): one unstyled run, or nothing."""
    text = inline_plain_text(content)
    return [StyledText(text, {})] if text else []
