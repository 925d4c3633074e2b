"""Split a long document into chunks that fit the model, on block boundaries.

The input is a list of segments, one per block: ``Segment(text, block_id, heading_path)``. A
chunk never cuts a block unless that block alone is larger than a chunk, and then only between
sentences (inside a sentence only when one sentence alone is larger than a chunk, and then
between words). Chunks are balanced (a 2.1-chunk document gives three chunks of about 0.7, not
two full ones and a scrap), and each carries the headings it sits under, so the model reading a
chunk in isolation knows where it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# A sentence ends at . ! ? … (optionally followed by closing quotes/brackets) before a capital,
# a digit, an opening quote or a dash.
_SENTENCE_END = re.compile(r"(?<=[.!?…])(?:\s?[»\"')\]])*\s+(?=[«\"'(\[A-ZÀ-ÖØ-Þ0-9—–-])")
# Words after which a period does not end a sentence (French and English), and initials.
_ABBREVIATIONS = frozenset(
    """m mm mme mmes mlle mlles dr pr me mgr st ste sr jr mr mrs ms prof gén col cdt lt capt av bd fg
    art al p pp cf ch chap coll éd ed etc ex fig hab n no nos réf ref t vol vs env min max tél tel
    e.g i.e approx dept inc ltd co corp""".split()  # noqa: SIM905
)
_LAST_WORD = re.compile(r"([\w.]+)\.(?:\s?[»\"')\]])*$")


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

    @property
    def text(self) -> str:
        return "\n\n".join(segment.text for segment in self.segments)


def _is_abbreviation(piece: str) -> bool:
    match = _LAST_WORD.search(piece)
    if not match:
        return False
    word = match.group(1)
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())  # an initial: "J. Dupont"


def split_sentences(text: str) -> list[str]:
    """French/English sentence split that keeps "M. Dupont", "art. 3", "p. ex." and initials whole."""
    sentences: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        piece = text[start : match.end()].rstrip()
        if _is_abbreviation(piece):
            continue
        if piece.strip():
            sentences.append(piece.strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _cut_words(sentence: str, max_tokens: int, count: Callable[[str], int]) -> list[str]:
    """A single sentence longer than a chunk, cut between words."""
    words = sentence.split(" ")
    pieces: list[str] = []
    current: list[str] = []
    for word in words:
        if current and count(" ".join([*current, word])) > max_tokens:
            pieces.append(" ".join(current))
            current = []
        current.append(word)
    if current:
        pieces.append(" ".join(current))
    # A "word" longer than a chunk (a huge URL, base64…): cut by characters as a last resort.
    out: list[str] = []
    for piece in pieces:
        tokens = count(piece)
        if tokens <= max_tokens:
            out.append(piece)
        else:
            step = max(1, len(piece) * max_tokens // tokens)
            out.extend(piece[i : i + step] for i in range(0, len(piece), step))
    return out


def _split_oversized(segment: Segment, max_tokens: int, count: Callable[[str], int]) -> list[Segment]:
    pieces: list[Segment] = []
    current: list[str] = []
    current_tokens = 0

    def flush() -> None:
        nonlocal current, current_tokens
        if current:
            pieces.append(Segment(" ".join(current), segment.block_id, segment.heading_path))
        current, current_tokens = [], 0

    for sentence in split_sentences(segment.text):
        tokens = count(sentence) + 1
        if current and current_tokens + tokens > max_tokens:
            flush()
        if tokens > max_tokens:
            for piece in _cut_words(sentence, max_tokens, count):
                pieces.append(Segment(piece, segment.block_id, segment.heading_path))
            continue
        current.append(sentence)
        current_tokens += tokens
    flush()
    return pieces


def _pack(parts: list[tuple[Segment, int]], budget: int) -> list[Chunk]:
    chunks: list[Chunk] = []
    current = Chunk(0)
    for part, tokens in parts:
        if current.segments and current.tokens + tokens > budget:
            chunks.append(current)
            current = Chunk(len(chunks))
        current.segments.append(part)
        current.tokens += tokens
    if current.segments:
        chunks.append(current)
    return chunks


def chunk_segments(segments: Sequence[Segment], max_tokens: int, count: Callable[[str], int]) -> list[Chunk]:
    """Whole blocks packed into balanced chunks of at most ``max_tokens``, in document order."""
    parts: list[tuple[Segment, int]] = []
    for segment in segments:
        tokens = count(segment.text) + 2  # the blank line between blocks
        if tokens <= max_tokens:
            parts.append((segment, tokens))
        else:
            parts.extend((piece, count(piece.text) + 2) for piece in _split_oversized(segment, max_tokens - 2, count))
    greedy = _pack(parts, max_tokens)
    if len(greedy) <= 1:
        return greedy
    # Same number of chunks, evened out: the smallest cap that still packs into that many chunks
    # (binary search; packing is monotone in the cap).
    low = max(*(tokens for _, tokens in parts), math.ceil(sum(tokens for _, tokens in parts) / len(greedy)))
    high = max_tokens
    while low < high:
        middle = (low + high) // 2
        if len(_pack(parts, middle)) <= len(greedy):
            high = middle
        else:
            low = middle + 1
    return _pack(parts, low)
