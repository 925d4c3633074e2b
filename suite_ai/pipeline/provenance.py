"""Links from generated text back to the source blocks it came from.

The model reads each source block behind a short reference (``[§12]``) rather than its UUID, which
costs many more tokens and which a model copies back less faithfully; it cites those references,
and we then turn each citation into a link to the block in Docs. A reference the model invents is
dropped, never linked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from suite_ai.llm.chunking import Segment

CITATION = re.compile(r"\[§(\d{1,6})\](?!\()")


@dataclass(frozen=True)
class References:
    """Short reference number → block id, in document order."""

    block_ids: dict[int, str]

    def link(self, number: int, document_url: str | None) -> str | None:
        block_id = self.block_ids.get(number)
        if block_id is None:
            return None
        return f"{document_url}#{block_id}" if document_url else f"#{block_id}"


def link_citations(markdown: str, references: References, document_url: str | None) -> str:
    """Replace ``[§n]`` with a link to block n; drop references that do not exist."""

    def replace(match: re.Match[str]) -> str:
        number = int(match.group(1))
        target = references.link(number, document_url)
        return f"[§{number}]({target})" if target else ""

    linked = CITATION.sub(replace, markdown)
    return re.sub(r"[ \t]+\n", "\n", linked)


def cited_block_ids(markdown: str, references: References) -> list[str]:
    """The source blocks a text cites, in order of first citation."""
    seen: dict[str, None] = {}
    for match in CITATION.finditer(markdown):
        block_id = references.block_ids.get(int(match.group(1)))
        if block_id:
            seen.setdefault(block_id, None)
    return list(seen)


def tag(segments: Sequence[Segment]) -> tuple[list[Segment], References]:
    """The same blocks, each prefixed with its reference, for the engine to chunk and cite."""
    tagged: list[Segment] = []
    block_ids: dict[int, str] = {}
    for segment in segments:
        if segment.block_id:
            number = len(block_ids) + 1
            block_ids[number] = segment.block_id
            tagged.append(Segment(f"[§{number}] {segment.text}", segment.block_id, segment.heading_path))
        else:
            tagged.append(segment)
    return tagged, References(block_ids)
