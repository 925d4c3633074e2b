"""An offline extractive summarizer: TextRank over sentences (Mihalcea & Tarau, 2004).

Used when no model is configured, and as a degraded mode when the operator allows it. It picks
the sentences most similar to the rest of the text and returns them in document order, so it
only ever says what the document says. Pure Python, deterministic.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from suite_ai.llm.chunking import Segment, split_sentences

WORD = re.compile(r"[\wÀ-ÿ]+", re.UNICODE)
STOPWORDS = frozenset(
    """
    a à au aux avec ce ces cet cette dans de des du elle en et eux il ils je la le les leur leurs lui ma mais me
    même mes moi mon ne nos notre nous on ou où par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une
    vos votre vous c d j l m n s t y été être avoir ont est sont était ai as avons avez sera seront fait faire plus
    comme si tout tous toute toutes aussi ainsi donc car alors ça cela ceci entre sans sous vers chez leur afin
    the of and to in is are was were be been it this that these those for on with as by at from or an not but have has
    had they them their there which who will would can could should may might do does did so if than then its
    """.split()  # noqa: SIM905
)
MAX_SENTENCES = 3000  # beyond this, similarity is computed on the first sentences of each block


@dataclass(frozen=True)
class Extract:
    sentence: str
    block_id: str | None
    position: int
    score: float


def _words(sentence: str) -> set[str]:
    return {w for w in (m.group().lower() for m in WORD.finditer(sentence)) if w not in STOPWORDS and len(w) > 2}


def rank(sentences: Sequence[str], damping: float = 0.85, iterations: int = 40) -> list[float]:
    """PageRank over the sentence-similarity graph; similarity as in the TextRank paper."""
    words = [_words(s) for s in sentences]
    index: dict[str, list[int]] = defaultdict(list)
    for i, ws in enumerate(words):
        for w in ws:
            index[w].append(i)
    overlap: list[dict[int, int]] = [defaultdict(int) for _ in sentences]
    for postings in index.values():
        if len(postings) > 200:  # a word in most sentences says nothing about any of them
            continue
        for a in postings:
            for b in postings:
                if a != b:
                    overlap[a][b] += 1
    edges: list[dict[int, float]] = []
    for i, neighbours in enumerate(overlap):
        weights: dict[int, float] = {}
        for j, shared in neighbours.items():
            norm = math.log(len(words[i]) + 1) + math.log(len(words[j]) + 1)
            if norm > 0:
                weights[j] = shared / norm
        edges.append(weights)
    totals = [sum(w.values()) for w in edges]
    n = len(sentences)
    scores = [1.0 / n] * n if n else []
    for _ in range(iterations):
        incoming = [0.0] * n
        for j, weights in enumerate(edges):
            if totals[j] == 0:
                continue
            share = scores[j] / totals[j]
            for i, weight in weights.items():
                incoming[i] += weight * share
        scores = [(1 - damping) / n + damping * value for value in incoming]
    return scores


def extract(segments: Sequence[Segment], max_sentences: int | None = None) -> list[Extract]:
    candidates: list[tuple[str, str | None]] = []
    for segment in segments:
        text = segment.text.strip()
        if not text or text.startswith(("#", "```", "|")):
            continue  # headings, code and tables are structure, not statements
        for sentence in split_sentences(re.sub(r"^\s*(?:[-*+]|\d+[.)])\s+", "", text)):
            if len(_words(sentence)) >= 3:
                candidates.append((sentence.strip(), segment.block_id))
    candidates = candidates[:MAX_SENTENCES]
    if not candidates:
        return []
    scores = rank([sentence for sentence, _ in candidates])
    wanted = max_sentences or max(3, min(12, round(len(candidates) ** 0.5)))
    best = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))[:wanted]
    return [Extract(candidates[i][0], candidates[i][1], i, scores[i]) for i in sorted(best)]


def summarize(segments: Sequence[Segment], max_sentences: int | None = None) -> str:
    """The most central sentences, in document order, as a markdown list."""
    return "\n".join(f"- {e.sentence}" for e in extract(segments, max_sentences))
