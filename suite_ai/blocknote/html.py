"""HTML ⇄ markdown for Docs' ``ai-translate`` path.

Docs' editor sends the selection as BlockNote's lossy HTML (``blocksToHTMLLossy``) and parses the
answer back with ``tryParseHTMLToBlocks`` (``AIButtonMIT.tsx``). suite_ai's actions work on
markdown (the model answers markdown, which the pipeline validates as BlockNote blocks), so the
HTML is turned into markdown before the job and the job's markdown back into HTML after it: the
formatting BlockNote's HTML carries (headings, paragraphs, bulleted and numbered lists, nested
lists, bold, italic, underline, strike-through, inline code, code blocks, quotes, links, line
breaks, simple tables) survives; colours, alignment and other attributes do not, as in Docs'
own markdown path (``blocksToMarkdownLossy``).

The answer's HTML is rendered by markdown-it with raw HTML turned off, so nothing the model writes
becomes markup but the formatting markdown expresses (and ``<u>``, which markdown has not).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from markdown_it import MarkdownIt

_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_INLINE_MARKS = {"strong": "**", "b": "**", "em": "*", "i": "*", "s": "~~", "del": "~~", "strike": "~~"}
_BLOCKS = {"p", "div", "blockquote", "pre", "ul", "ol", "li", "table", "tr", "figure", *_HEADINGS}
_SKIPPED = {"script", "style", "template", "head", "title"}
_ESCAPED = re.compile(r"([\\`*_\[\]<>])")


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []  # finished blocks, joined by blank lines
        self.line: list[str] = []  # the inline content of the block being read
        self.prefix: list[str] = []  # the current block's marker ("# ", "- ", "> ", …)
        self.lists: list[list[int]] = []  # open lists: [kind (0 bullet, 1 numbered), next number]
        self.quote = 0
        self.code: list[str] | None = None  # inside <pre>
        self.links: list[str] = []
        self.skip = 0
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None
        self.in_code = 0  # inside inline <code>: text is literal there

    # -- blocks -------------------------------------------------------------------------------

    def _flush(self) -> None:
        text = "".join(self.line).strip()
        self.line = []
        if not text:
            return
        marker = "".join(self.prefix) or ""
        indent = "   " * max(0, len(self.lists) - 1) if self.lists else ""
        quote = "> " * self.quote
        lines = text.split("\n")
        continuation = quote + indent + " " * len(marker)
        self.blocks.append(
            "\n".join([quote + indent + marker + lines[0], *(continuation + rest for rest in lines[1:])])
        )
        self.prefix = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self.skip += 1
            return
        if self.skip:
            return
        if self.code is not None:
            return
        if tag == "pre":
            self._flush()
            self.code = []
        elif tag in _HEADINGS:
            self._flush()
            self.prefix = ["#" * _HEADINGS[tag] + " "]
        elif tag in {"ul", "ol"}:
            self._flush()
            start = dict(attrs).get("start") or "1"
            self.lists.append([1 if tag == "ol" else 0, int(start) if start.isdigit() else 1])
        elif tag == "li":
            self._flush()
            if self.lists:
                kind = self.lists[-1]
                if kind[0]:
                    self.prefix = [f"{kind[1]}. "]
                    kind[1] += 1
                else:
                    state = next((value for name, value in attrs if name == "data-checked"), None)
                    self.prefix = ["- [x] " if state == "true" else "- [ ] " if state == "false" else "- "]
        elif tag == "blockquote":
            self._flush()
            self.quote += 1
        elif tag in {"p", "div", "figure"}:
            if not self.prefix:
                self._flush()
        elif tag == "table":
            self._flush()
            self.table = []
        elif tag == "tr" and self.table is not None:
            self.table.append([])
        elif tag in {"td", "th"} and self.table is not None:
            self.cell = []
        elif tag == "br":
            self._inline("\\\n")
        elif tag in _INLINE_MARKS:
            self._inline(_INLINE_MARKS[tag])
        elif tag == "u":
            self._inline("<u>")
        elif tag == "code":
            self.in_code += 1
            self._inline("`")
        elif tag == "a":
            self.links.append(dict(attrs).get("href") or "")
            self._inline("[")
        elif tag == "input" and self.prefix == ["- "]:
            checked = any(name == "checked" for name, _value in attrs)
            self.prefix = ["- [x] " if checked else "- [ ] "]

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if self.code is not None:
            if tag == "pre":
                body = "".join(self.code).strip("\n")
                self.code = None
                quote = "> " * self.quote
                self.blocks.append("\n".join(quote + line for line in ["```", *body.split("\n"), "```"]))
            return
        if tag in _HEADINGS or tag in {"p", "div", "figure", "li"}:
            self._flush()
        elif tag in {"ul", "ol"}:
            self._flush()
            if self.lists:
                self.lists.pop()
        elif tag == "blockquote":
            self._flush()
            self.quote = max(0, self.quote - 1)
        elif tag in {"td", "th"} and self.table is not None and self.cell is not None:
            if self.table:
                self.table[-1].append("".join(self.cell).strip().replace("|", "\\|").replace("\n", " "))
            self.cell = None
        elif tag == "table" and self.table is not None:
            rows, self.table = [row for row in self.table if row], None
            if rows:
                width = max(len(row) for row in rows)
                rows = [row + [""] * (width - len(row)) for row in rows]
                lines = [f"| {' | '.join(rows[0])} |", f"|{'---|' * width}"]
                lines += [f"| {' | '.join(row)} |" for row in rows[1:]]
                self.blocks.append("\n".join(lines))
        elif tag in _INLINE_MARKS:
            self._inline(_INLINE_MARKS[tag])
        elif tag == "u":
            self._inline("</u>")
        elif tag == "code":
            self.in_code = max(0, self.in_code - 1)
            self._inline("`")
        elif tag == "a":
            href = self.links.pop() if self.links else ""
            self._inline(f"]({href.replace(' ', '%20').replace(')', '%29')})" if href else "]")

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.code is not None:
            self.code.append(data)
            return
        text = re.sub(r"\s+", " ", data)
        if not text.strip() and not "".join(self.cell if self.cell is not None else self.line).strip():
            return  # whitespace between blocks
        self._inline(text if self.in_code else _ESCAPED.sub(r"\\\1", text))

    def _inline(self, text: str) -> None:
        (self.cell if self.cell is not None else self.line).append(text)

    def result(self) -> str:
        self._flush()
        return "\n\n".join(self.blocks).strip() + "\n"


def html_to_markdown(html: str) -> str:
    converter = _Converter()
    converter.feed(html)
    converter.close()
    return converter.result()


_RENDERER = MarkdownIt("commonmark", {"html": False, "breaks": False}).enable(["table", "strikethrough"])
_UNDERLINE = re.compile(r"&lt;(/?)u&gt;")


def markdown_to_html(markdown: str) -> str:
    # Raw HTML is escaped by the renderer; underline alone is restored, by its exact escaped form.
    return _UNDERLINE.sub(r"<\1u>", _RENDERER.render(markdown)).strip()
