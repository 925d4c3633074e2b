"""Split a long document into chunks that fit the model, on block boundaries.

A chunk never cuts a block unless that block alone is larger than a chunk, and then only
between sentences. Each chunk carries the headings it sits under, so the model reading a
chunk in isolation knows where it is in the document.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=[«\"'(\[A-ZÀ-ÖØ-Þ-])")


@dataclass(frozen=True)
class Segment:
    """One block's text, with the id of the block it came from (None for plain markdown)."""

    text: str
    block_id: str | None = None
    heading_path: tuple[str, ...] = ()


@dataclass
class Chunk:
    index: int
    segments: list[Segment] = field(default_factory=list)
    tokens: int = 0

    @property
    def context(self) -> tuple[str, ...]:
        """The headings above the chunk's first block."""
        return self.segments[0].heading_path if self.segments else ()


def split_sentences(text: str) -> list[str]:
    return [part for part in SENTENCE_END.split(text) if part.strip()]


def _split_oversized(segment: Segment, max_tokens: int, count: Callable[[str], int]) -> list[Segment]:
    pieces: list[Segment] = []
    current: list[str] = []
    current_tokens = 0
    for sentence in split_sentences(segment.text):
        tokens = count(sentence)
        if current and current_tokens + tokens > max_tokens:
            pieces.append(Segment(" ".join(current), segment.block_id, segment.heading_path))
            current, current_tokens = [], 0
        if tokens > max_tokens:  # a single sentence longer than a chunk: cut it by characters
            step = max(1, len(sentence) * max_tokens // tokens)
            for start in range(0, len(sentence), step):
                pieces.append(Segment(sentence[start : start + step], segment.block_id, segment.heading_path))
            continue
        current.append(sentence)
        current_tokens += tokens
    if current:
        pieces.append(Segment(" ".join(current), segment.block_id, segment.heading_path))
    return pieces


def chunk_segments(segments: Sequence[Segment], max_tokens: int, count: Callable[[str], int]) -> list[Chunk]:
    """Greedy packing of whole blocks, in document order."""
    chunks: list[Chunk] = []
    current = Chunk(0)
    for segment in segments:
        tokens = count(segment.text) + 2  # the blank line between blocks
        parts = [segment] if tokens <= max_tokens else _split_oversized(segment, max_tokens, count)
        for part in parts:
            part_tokens = tokens if part is segment else count(part.text) + 2
            if current.segments and current.tokens + part_tokens > max_tokens:
                chunks.append(current)
                current = Chunk(len(chunks))
            current.segments.append(part)
            current.tokens += part_tokens
    if current.segments:
        chunks.append(current)
    return chunks
