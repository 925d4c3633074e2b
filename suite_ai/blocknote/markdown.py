"""Markdown both ways.

* ``blocks_to_markdown``: what the model reads, with a map from character offsets back to block ids
  (provenance). Lossy on purpose: colours, alignment and widths are not model input.
* ``markdown_to_blocks``: model output (CommonMark + GFM tables, strikethrough and task lists, parsed
  with markdown-it-py) → blocks in the supported subset only. Anything else degrades to paragraphs,
  never to a node the editor does not know.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .model import (
    HARD_BREAK,
    Block,
    InlineContent,
    InlineNode,
    Link,
    StyledText,
    TableCell,
    TableContent,
    add_text_tokens,
    inline_plain_text,
    inline_tokens,
    merge_tokens,
    new_block_id,
)
from .schema import DOCS_SCHEMA, TABLE_CELL_PROPS, Schema

LIST_TYPES = frozenset({"bulletListItem", "numberedListItem", "checkListItem", "toggleListItem"})


@dataclass(frozen=True, slots=True)
class BlockSpan:
    """Where one block's own text sits in the markdown: ``markdown[start:end]`` (character offsets)."""

    block_id: str
    start: int
    end: int
    type: str
    depth: int


@dataclass(slots=True)
class MarkdownRendering:
    """Markdown for the model, and the provenance of every character of it."""

    markdown: str
    spans: list[BlockSpan] = field(default_factory=list)
    _starts: list[int] = field(default_factory=list, repr=False)

    def block_id_at(self, offset: int) -> str | None:
        """The id of the block whose text covers ``offset`` (None between blocks)."""
        if not self._starts:
            self._starts = [span.start for span in self.spans]
        index = bisect.bisect_right(self._starts, offset) - 1
        if index >= 0 and offset < self.spans[index].end:
            return self.spans[index].block_id
        return None

    def block_ids_between(self, start: int, end: int) -> list[str]:
        """Ids of the blocks overlapping ``markdown[start:end]``, in document order."""
        return [span.block_id for span in self.spans if span.start < end and span.end > start]


# --- blocks → markdown -----------------------------------------------------------------------------------

_MARK_ORDER = ("bold", "italic", "strike", "underline")
_OPEN = {"bold": "**", "italic": "*", "strike": "~~", "underline": "<u>"}
_CLOSE = {"bold": "**", "italic": "*", "strike": "~~", "underline": "</u>"}
_ESCAPE = re.compile(r"([\\`*\[\]~]|<(?=[A-Za-z/!?]))")
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-zÀ-ÖØ-öø-ÿ])_|_(?![0-9A-Za-zÀ-ÖØ-öø-ÿ])")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINE_START = re.compile(r"^(?:(#{1,6}(?=\s|$)|[-+](?=\s|$)|>)|(\d{1,9})([.)])(?=\s|$)|(=+|-+)\s*$|(\s+))")


def _escape_text(text: str) -> str:
    text = _ESCAPE.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    return _ENTITY.sub(r"\\&", text)


def _escape_line_start(line: str) -> str:
    match = _LINE_START.match(line)
    if match is None:
        return line
    if match.group(1) or match.group(4):
        return "\\" + line
    if match.group(2):
        return match.group(2) + "\\" + line[len(match.group(2)) :]
    return _escape_line_start(line.lstrip())  # leading spaces would be stripped (or read as code)


def _code_span(text: str) -> str:
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    blank = not text.strip(" ")
    pad = "" if blank else " " if text[0] == "`" or text[-1] == "`" or (text[0] == " " and text[-1] == " ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


_MARKDOWN_STYLES = (*_MARK_ORDER, "code")


def _merge_markdown_runs(runs: list[StyledText]) -> list[StyledText]:
    """Join neighbours that look the same in markdown (colours are not rendered): ``a`` ``b`` → ``ab``."""
    merged: list[StyledText] = []
    for run in runs:
        if not run.text:
            continue
        key = {name: True for name in _MARKDOWN_STYLES if run.styles.get(name)}
        if merged and merged[-1].styles == key:
            merged[-1] = StyledText(merged[-1].text + run.text, key)
        else:
            merged.append(StyledText(run.text, key))
    return merged


class _InlineWriter:
    """Inline content → markdown, keeping marks open across runs (``**a *b***``, not ``**a*****b***``)."""

    def __init__(self, *, newline: str, line_starts: bool = True) -> None:
        self.newline = newline
        self.line_starts = line_starts  # escape what would start a block (#, -, 1.) at line starts

    def runs_to_markdown(self, runs: list[StyledText]) -> str:
        out: list[str] = []
        stack: list[str] = []
        runs = _merge_markdown_runs(runs)

        def close_to(depth: int) -> None:
            if len(stack) <= depth:
                return
            trailing = ""
            if out:
                stripped = out[-1].rstrip(" \t\n")
                trailing = out[-1][len(stripped) :]
                out[-1] = stripped
            while len(stack) > depth:
                out.append(_CLOSE[stack.pop()])
            out.append(trailing)

        for run in runs:
            text = run.text
            if not text:
                continue
            marks = [mark for mark in _MARK_ORDER if run.styles.get(mark)] if text.strip() else []
            keep = 0
            while keep < len(stack) and stack[keep] in marks:
                keep += 1
            close_to(keep)
            opening = [mark for mark in marks if mark not in stack]
            if opening:
                stripped = text.lstrip(" \t\n")
                out.append(text[: len(text) - len(stripped)])
                text = stripped
                for mark in opening:
                    out.append(_OPEN[mark])
                    stack.append(mark)
            out.append(self.text(text, code=bool(run.styles.get("code"))))
        close_to(0)
        return "".join(out)

    @staticmethod
    def text(text: str, *, code: bool) -> str:
        """One run's text; "\\n" (hard break) is kept and turned into ``newline`` at the end."""
        if code:
            return "\n".join(_code_span(line) if line else "" for line in text.split("\n"))
        return _escape_text(text)

    def inline_to_markdown(self, content: list[InlineContent]) -> str:
        parts: list[str] = []
        pending: list[StyledText] = []
        for item in content:
            if isinstance(item, StyledText):
                pending.append(item)
                continue
            parts.append(self.runs_to_markdown(pending))
            pending = []
            if isinstance(item, Link):
                label = self.runs_to_markdown(item.content) or _escape_text(item.href)
                parts.append(f"[{label}]({_link_destination(item.href)})")
            else:
                parts.append(self.inline_node(item))
        parts.append(self.runs_to_markdown(pending))
        # Hard breaks at the very start or end of a block have no markdown form (a trailing "\\"
        # would be read as a literal backslash): they are dropped.
        # Trailing spaces are dropped too: markdown ignores them, or reads two as a line break.
        lines = [line.rstrip(" \t") for line in "".join(parts).strip("\n").split("\n")]
        if self.line_starts:
            lines = [_escape_line_start(line) for line in lines]
        return self.newline.join(lines)

    def inline_node(self, node: InlineNode) -> str:
        if node.type == "interlinkingLinkInline":
            title = str(node.props.get("title") or node.props.get("docId") or "")
            doc_id = str(node.props.get("docId") or "")
            if not doc_id or node.props.get("disabled"):
                return ""
            return f"[{_escape_text(title)}]({_link_destination('/docs/' + doc_id + '/')})"
        return _escape_text(inline_plain_text([node]))


def _link_destination(href: str) -> str:
    if re.search(r"[\s()<>]", href):
        return "<" + href.replace("<", "%3C").replace(">", "%3E") + ">"
    return href


def _table_to_markdown(table: TableContent) -> str:
    """GFM table; cells covered by a colspan or rowspan become empty cells so columns line up."""
    writer = _InlineWriter(newline="<br>", line_starts=False)
    grid: dict[tuple[int, int], str] = {}
    alignments: dict[int, str] = {}
    covered: set[tuple[int, int]] = set()
    width = 0
    for row_index, row in enumerate(table.rows):
        column = 0
        for cell in row:
            while (row_index, column) in covered:
                column += 1
            colspan, rowspan = cell.spans()
            grid[(row_index, column)] = writer.inline_to_markdown(cell.content).replace("|", "\\|")
            alignments.setdefault(column, str(cell.props.get("textAlignment", "left")))
            covered.update(
                (r, c) for r in range(row_index, row_index + rowspan) for c in range(column, column + colspan)
            )
            column += colspan
        width = max(width, column)
    width = max([width] + [c + 1 for _, c in covered])
    lines = []
    for row_index in range(len(table.rows)):
        lines.append("| " + " | ".join(grid.get((row_index, c), "") for c in range(width)) + " |")
        if row_index == 0:
            marks = [{"center": ":---:", "right": "---:"}.get(alignments.get(c, "left"), "---") for c in range(width)]
            lines.append("| " + " | ".join(marks) + " |")
    return "\n".join(lines)


class _MarkdownWriter:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.spans: list[BlockSpan] = []
        self.previous_type: str | None = None

    def emit(self, text: str) -> None:
        self.parts.append(text)
        self.length += len(text)

    def separator(self, block_type: str, *, new_numbering: bool) -> None:
        """One newline between list items, a blank line otherwise.

        An ordered item that starts a list at a number other than 1 cannot interrupt a paragraph in
        CommonMark (it would be read as a continuation line), so it gets a blank line before it.
        """
        if self.previous_type is None:
            return
        tight = block_type in LIST_TYPES and self.previous_type in LIST_TYPES and not new_numbering
        self.emit("\n" if tight else "\n\n")

    def block_text(self, block: Block, number: int) -> tuple[str, str, str]:
        """(marker, body, continuation indent) for one block's own text."""
        content = block.content if isinstance(block.content, list) else []
        kind = block.type
        if kind == "heading":
            level = block.props.get("level", 1)
            level = level if isinstance(level, int) and 1 <= level <= 6 else 1
            body = _InlineWriter(newline=" ", line_starts=False).inline_to_markdown(content).strip()
            if body.endswith("#"):  # would be read as the optional closing sequence of an ATX heading
                body = body[:-1] + "\\#"
            return ("#" * level + " ", body, "") if body else ("", "", "")
        if kind in LIST_TYPES:
            if kind == "numberedListItem":
                marker = f"{number}. "
            elif kind == "checkListItem":
                marker = "- [x] " if block.props.get("checked") is True else "- [ ] "
            else:
                marker = "- "
            indent = " " * (len(marker) if kind == "numberedListItem" else 2)
            return marker, _InlineWriter(newline="\\\n").inline_to_markdown(content), indent
        if kind in ("quote", "callout"):
            body = _InlineWriter(newline="\\\n").inline_to_markdown(content)
            if kind == "callout":
                emoji = str(block.props.get("emoji") or "")
                body = f"{emoji} {body}".strip() if emoji else body
            return "> ", body, "> "
        if kind == "codeBlock":
            code = inline_plain_text(content)
            longest = max((len(run) for run in re.findall(r"`{3,}", code)), default=2)
            fence = "`" * (longest + 1)
            language = str(block.props.get("language") or "text")
            info = "" if language == "text" else language
            return "", f"{fence}{info}\n{code}\n{fence}", ""
        if kind == "divider":
            return "", "---", ""
        if kind == "table" and isinstance(block.content, TableContent) and block.content.rows:
            return "", _table_to_markdown(block.content), ""
        if kind == "image":
            url = str(block.props.get("url") or "")
            if not url:
                return "", "", ""
            alt = _escape_text(str(block.props.get("name") or ""))
            caption = str(block.props.get("caption") or "")
            title = ' "' + caption.replace('"', '\\"') + '"' if caption else ""
            return "", f"![{alt}]({_link_destination(url)}{title})", ""
        if kind in ("file", "video", "audio", "pdf"):
            url = str(block.props.get("url") or "")
            if not url:
                return "", "", ""
            label = _escape_text(str(block.props.get("name") or block.props.get("caption") or url))
            return "", f"[{label}]({_link_destination(url)})", ""
        if kind == "paragraph":
            return "", _InlineWriter(newline="\\\n").inline_to_markdown(content), ""
        if isinstance(block.content, list):  # any other inline block (unknown to us): its text
            return "", _InlineWriter(newline="\\\n").inline_to_markdown(content), ""
        return "", "", ""  # pageBreak, uploadLoader, unknown containers: no text of their own

    def write(self, blocks: list[Block], indent: str, depth: int) -> None:
        number = 0
        previous_kind: str | None = None
        for block in blocks:
            new_numbering = False
            if block.type == "numberedListItem":
                start = block.props.get("start")
                if previous_kind != "numberedListItem":
                    number = start if isinstance(start, int) and not isinstance(start, bool) and start >= 0 else 1
                    new_numbering = number != 1
                else:
                    number += 1
            previous_kind = block.type
            marker, body, continuation = self.block_text(block, number)
            if body or marker:
                self.separator(block.type, new_numbering=new_numbering)
                if indent:
                    self.emit(indent)
                start_offset = self.length
                lines = (marker + body).split("\n")
                prefix = indent + continuation
                text = lines[0]
                for line in lines[1:]:
                    text += "\n" + (prefix + line if line else prefix.rstrip())
                self.emit(text)
                self.spans.append(BlockSpan(block.id, start_offset, self.length, block.type, depth))
                self.previous_type = block.type
            if block.children:
                if block.type in LIST_TYPES and (body or marker):
                    child_indent = indent + (" " * len(marker) if block.type == "numberedListItem" else "  ")
                    self.write(block.children, child_indent, depth + 1)
                else:
                    self.write(block.children, indent, depth + 1)


def blocks_to_markdown(blocks: list[Block]) -> MarkdownRendering:
    """Blocks → markdown for the model, with ``spans`` mapping character offsets back to block ids.

    Empty blocks produce no text and no span. Children of list items are indented under them;
    children of other blocks follow them at the same level (markdown cannot nest a paragraph).
    """
    writer = _MarkdownWriter()
    writer.write(blocks, "", 0)
    return MarkdownRendering("".join(writer.parts), writer.spans)


# --- markdown → blocks -----------------------------------------------------------------------------------

_PARSER = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
# Keep link destinations as written (markdown-it percent-encodes them); validateLink still refuses
# javascript:, vbscript:, file: and data: (except images) URLs, which then stay plain text.
_PARSER.normalizeLink = lambda url: url.strip()  # type: ignore[method-assign]
_TASK = re.compile(r"^\[([ xX])\](?:\s+|$)")
_HTML_STYLE_TAGS = {
    "u": "underline",
    "ins": "underline",
    "s": "strike",
    "del": "strike",
    "strike": "strike",
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "code": "code",
}
_HTML_TAG = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9]*)\s*(/?)>$")
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")


class _MarkdownReader:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.defaults = {name: spec.defaults() for name, spec in schema.blocks.items()}
        self.cell_defaults = {spec.name: spec.default for spec in TABLE_CELL_PROPS}

    def block(self, block_type: str, content: Any = None, children: list[Block] | None = None, **props: Any) -> Block:
        merged = dict(self.defaults[block_type])
        merged.update(props)
        if content is None and self.schema.blocks[block_type].content in ("inline", "plain"):
            content = []
        return Block(block_type, merged, content, children or [], new_block_id())

    # -- inline --

    def inline(self, token: Token | None) -> list[InlineContent]:
        if token is None or not token.children:
            return []
        pieces: list[Any] = []
        counters: dict[str, int] = {}
        href_stack: list[str] = []
        for child in token.children:
            kind = child.type
            if kind == "text":
                self._text(pieces, child.content, counters, href_stack)
            elif kind in ("softbreak", "hardbreak"):
                pieces.append(HARD_BREAK)
            elif kind == "code_inline":
                counters["code"] = counters.get("code", 0) + 1
                self._text(pieces, child.content, counters, href_stack)
                counters["code"] -= 1
            elif kind in ("strong_open", "em_open", "s_open"):
                name = {"strong_open": "bold", "em_open": "italic", "s_open": "strike"}[kind]
                counters[name] = counters.get(name, 0) + 1
            elif kind in ("strong_close", "em_close", "s_close"):
                name = {"strong_close": "bold", "em_close": "italic", "s_close": "strike"}[kind]
                counters[name] = max(0, counters.get(name, 0) - 1)
            elif kind == "link_open":
                href_stack.append(str(child.attrs.get("href") or ""))
            elif kind == "link_close":
                if href_stack:
                    href_stack.pop()
            elif kind == "image":
                src = str(child.attrs.get("src") or "")
                alt = child.content or src
                if src:
                    href_stack.append(src)
                    self._text(pieces, alt, counters, href_stack)
                    href_stack.pop()
                else:
                    self._text(pieces, alt, counters, href_stack)
            elif kind == "html_inline":
                self._html_inline(pieces, child.content, counters, href_stack)
            else:
                self._text(pieces, child.content, counters, href_stack)
        return merge_tokens(pieces)

    @staticmethod
    def _text(pieces: list[Any], text: str, counters: dict[str, int], href_stack: list[str]) -> None:
        if not text:
            return
        styles = {name: True for name, count in counters.items() if count > 0}
        add_text_tokens(pieces, text, styles, href_stack[-1] if href_stack and href_stack[-1] else None)

    def _html_inline(self, pieces: list[Any], html: str, counters: dict[str, int], href_stack: list[str]) -> None:
        match = _HTML_TAG.match(html.strip())
        if match:
            closing, tag, _ = match.groups()
            tag = tag.lower()
            if tag == "br":
                pieces.append(HARD_BREAK)
                return
            style = _HTML_STYLE_TAGS.get(tag)
            if style:
                counters[style] = max(0, counters.get(style, 0) + (-1 if closing else 1))
                return
        self._text(pieces, html, counters, href_stack)

    # -- blocks --

    def parse(self, tokens: list[Token]) -> list[Block]:
        blocks, _ = self.blocks(tokens, 0, None)
        return blocks

    def blocks(self, tokens: list[Token], index: int, until: str | None) -> tuple[list[Block], int]:
        """Blocks from ``tokens[index:]`` up to the closing token ``until`` (exclusive)."""
        out: list[Block] = []
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if until is not None and kind == until:
                return out, index
            if kind == "heading_open":
                level = int(token.tag[1]) if token.tag[1:].isdigit() else 1
                out.append(self.block("heading", self.inline(tokens[index + 1]), level=level))
                index += 3
            elif kind == "paragraph_open":
                out.append(self.paragraph(tokens[index + 1]))
                index += 3
            elif kind in ("bullet_list_open", "ordered_list_open"):
                items, index = self.list_items(tokens, index)
                out.extend(items)
            elif kind == "blockquote_open":
                inner, index = self.blocks(tokens, index + 1, "blockquote_close")
                out.append(self.quote(inner))
                index += 1
            elif kind in ("fence", "code_block"):
                info = token.info.strip().split()[0] if kind == "fence" and token.info.strip() else "text"
                code = token.content[:-1] if token.content.endswith("\n") else token.content
                out.append(self.block("codeBlock", [StyledText(code, {})] if code else [], language=info))
                index += 1
            elif kind == "hr":
                out.append(self.block("divider"))
                index += 1
            elif kind == "table_open":
                table, index = self.table(tokens, index + 1)
                if table is not None:
                    out.append(table)
            elif kind == "html_block":
                text = token.content.strip("\n")
                if text.strip():
                    out.append(self.block("paragraph", _plain_paragraph_content(text)))
                index += 1
            elif token.nesting == 1:  # an unknown container (from a plugin): read what it holds
                inner, index = self.blocks(tokens, index + 1, kind.replace("_open", "_close"))
                out.extend(inner)
                index += 1
            elif token.type == "inline" or token.content:
                text = token.content.strip()
                if text:
                    out.append(self.block("paragraph", _plain_paragraph_content(text)))
                index += 1
            else:
                index += 1
        return out, index

    def paragraph(self, inline: Token) -> Block:
        children = [c for c in inline.children or [] if not (c.type == "text" and not c.content.strip())]
        if len(children) == 1 and children[0].type == "image" and children[0].attrs.get("src"):
            image = children[0]
            return self.block(
                "image",
                None,
                url=str(image.attrs["src"]),
                name=image.content or "",
                caption=str(image.attrs.get("title") or ""),
            )
        return self.block("paragraph", self.inline(inline))

    def quote(self, inner: list[Block]) -> Block:
        """A quote's paragraphs join its text (line breaks between them); other blocks become children."""
        content: list[InlineContent] = []
        rest = list(inner)
        while rest and rest[0].type == "paragraph":
            paragraph = _inline_of(rest.pop(0))
            if content:
                paragraph = merge_tokens([*inline_tokens(content), HARD_BREAK, *inline_tokens(paragraph)])
            content = paragraph
        return self.block("quote", content, rest)

    def list_items(self, tokens: list[Token], index: int) -> tuple[list[Block], int]:
        opening = tokens[index]
        ordered = opening.type == "ordered_list_open"
        close = "ordered_list_close" if ordered else "bullet_list_close"
        start = opening.attrs.get("start") if ordered else None
        items: list[Block] = []
        index += 1
        while index < len(tokens) and tokens[index].type != close:
            if tokens[index].type != "list_item_open":
                index += 1
                continue
            inner, index = self.blocks(tokens, index + 1, "list_item_close")
            index += 1
            items.append(self.list_item(inner, ordered=ordered, first=not items, start=start))
        return items, index + 1

    def list_item(self, inner: list[Block], *, ordered: bool, first: bool, start: Any) -> Block:
        content: list[InlineContent] = []
        children = inner
        if inner and inner[0].type == "paragraph":
            content = _inline_of(inner[0])
            children = inner[1:]
        task = None
        if content and isinstance(content[0], StyledText):
            match = _TASK.match(content[0].text)
            if match:
                task = match.group(1).lower() == "x"
                rest = content[0].text[match.end() :]
                content = ([StyledText(rest, content[0].styles)] if rest else []) + content[1:]
        if task is not None:
            return self.block("checkListItem", content, children, checked=task)
        if ordered:
            props: dict[str, Any] = {}
            if first and isinstance(start, int) and start != 1 and 0 <= start < 2**31:
                props["start"] = start
            return self.block("numberedListItem", content, children, **props)
        return self.block("bulletListItem", content, children)

    def table(self, tokens: list[Token], index: int) -> tuple[Block | None, int]:
        rows: list[list[TableCell]] = []
        header_rows = 0
        current: list[TableCell] | None = None
        in_head = False
        while index < len(tokens) and tokens[index].type != "table_close":
            token = tokens[index]
            if token.type == "thead_open":
                in_head = True
            elif token.type == "thead_close":
                in_head = False
            elif token.type == "tr_open":
                current = []
            elif token.type == "tr_close" and current is not None:
                rows.append(current)
                if in_head:
                    header_rows += 1
                current = None
            elif token.type in ("th_open", "td_open") and current is not None:
                props = dict(self.cell_defaults)
                match = _ALIGN.search(str(token.attrs.get("style") or ""))
                if match:
                    props["textAlignment"] = match.group(1)
                current.append(TableCell(self.inline(tokens[index + 1]), props))
                index += 2
            index += 1
        if not rows or not rows[0]:
            return None, index + 1
        table = TableContent(rows, [None] * len(rows[0]), header_rows or None, None)
        return self.block("table", table), index + 1


def _plain_paragraph_content(text: str) -> list[InlineContent]:
    tokens: list[Any] = []
    add_text_tokens(tokens, text, {}, None)
    return merge_tokens(tokens)


def _inline_of(block: Block) -> list[InlineContent]:
    return list(block.content) if isinstance(block.content, list) else []


def markdown_to_blocks(markdown: str, *, schema: Schema = DOCS_SCHEMA) -> list[Block]:
    """Markdown (e.g. model output) → blocks of the supported subset, with fresh UUID v4 ids.

    Headings 1–6, paragraphs, bullet/numbered/task lists (nested), quotes, fenced and indented code,
    thematic breaks, GFM tables, standalone images; bold, italic, strike, code, links, ``<u>``
    underline and line breaks. Raw HTML blocks and anything unknown become plain paragraphs.
    """
    if not isinstance(markdown, str):
        raise TypeError("markdown must be a str")
    markdown = markdown.encode("utf-8", "replace").decode("utf-8")  # lone surrogates cannot be stored
    return _MarkdownReader(schema).parse(_PARSER.parse(markdown))
