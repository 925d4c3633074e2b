"""An offline extractive summarizer: TextRank over sentences (Mihalcea & Tarau, 2004).

Used when no model is configured for ``summarize`` and ``note``, and as a degraded mode the
operator may enable while the model is down. Sentences (French/English split, abbreviations kept
whole) are nodes; two sentences are linked by the words they share (stopwords removed, plurals
folded), normalised by their lengths as in the paper; PageRank picks the most central ones, which
are returned in document order — so it only ever says what the document says. Pure Python,
deterministic (ties broken by position). Results are labelled ``engine: extractive``.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from suite_ai.llm.chunking import Segment, split_sentences

VERSION = "extractive@textrank-2"
WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
STOPWORDS_FR = frozenset(
    """a à ai aie aient ainsi alors après as au aucun aussi autre aux avaient avais avait avant avec avez avions
    avoir avons ayant c ça car ce ceci cela celle celles celui cependant ces cet cette ceux chaque chez comme comment d
    dans de
    depuis des donc dont du elle elles en encore entre es est et été étaient était étant être eu eux fait faire fut il
    ils j je jusqu l la le les leur leurs lors lui m ma mais me même mes moi moins mon n ne ni nos notre nous on ont
    ou où par parce pas peu peut plus pour pourquoi qu quand que quel quelle quelles quels qui s sa sans se selon sera
    seront
    ses si sien son sont sous sur t ta tant te tes toi ton tous tout toute toutes très tu un une vers via vos votre
    vous y sera ni leurs aussi puis dont déjà entre afin""".split()  # noqa: SIM905
)
STOPWORDS_EN = frozenset(
    """a about above after again against all am an and any are as at be because been before being below between both
    but by can could did do does doing down during each few for from further had has have having he her here hers him
    his how i if in into is it its itself just me more most my no nor not now of off on once only or other our ours out
    over own same she should so some such than that the their theirs them then there these they this those through to
    too under until up very was we were what when where which while who whom why will with would you your yours also
    may might must shall""".split()  # noqa: SIM905
)
STOPWORDS = STOPWORDS_FR | STOPWORDS_EN
MAX_SENTENCES = 3000  # beyond this, only the first sentences are ranked (quadratic graph)
MAX_POSTINGS = 200  # a word in this many sentences says nothing about any of them
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


@dataclass(frozen=True)
class Extract:
    sentence: str
    block_id: str | None
    position: int  # index of the sentence among the candidates, in document order
    score: float


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 4 and word[-1] in "sx" else word


def _words(sentence: str) -> set[str]:
    return {_stem(w) for w in (m.group().lower() for m in WORD.finditer(sentence)) if w not in STOPWORDS and len(w) > 2}


def rank(sentences: Sequence[str], damping: float = 0.85, iterations: int = 50, tolerance: float = 1e-6) -> list[float]:
    """PageRank over the sentence-similarity graph; similarity as in the TextRank paper:
    |shared words| / (log |Si| + log |Sj|)."""
    words = [_words(s) for s in sentences]
    index: dict[str, list[int]] = defaultdict(list)
    for i, ws in enumerate(words):
        for w in ws:
            index[w].append(i)
    overlap: list[dict[int, int]] = [defaultdict(int) for _ in sentences]
    for postings in index.values():
        if len(postings) > MAX_POSTINGS:
            continue
        for a in postings:
            row = overlap[a]
            for b in postings:
                if a != b:
                    row[b] += 1
    logs = [math.log(len(ws) + 1) for ws in words]
    edges: list[dict[int, float]] = [
        {j: shared / (logs[i] + logs[j]) for j, shared in neighbours.items() if logs[i] + logs[j] > 0}
        for i, neighbours in enumerate(overlap)
    ]
    totals = [sum(w.values()) for w in edges]
    n = len(sentences)
    if n == 0:
        return []
    scores = [1.0 / n] * n
    for _ in range(iterations):
        incoming = [0.0] * n
        dangling = 0.0  # a sentence sharing no word spreads its score evenly (scores keep summing to 1)
        for j, weights in enumerate(edges):
            if totals[j] == 0:
                dangling += scores[j]
                continue
            share = scores[j] / totals[j]
            for i, weight in weights.items():
                incoming[i] += weight * share
        base = (1 - damping) / n + damping * dangling / n
        updated = [base + damping * value for value in incoming]
        delta = sum(abs(a - b) for a, b in zip(updated, scores, strict=True))
        scores = updated
        if delta < tolerance:
            break
    return scores


def candidates(segments: Sequence[Segment]) -> list[tuple[str, str | None]]:
    """Statements of the document: sentences of its paragraphs and list items (headings, code and
    tables are structure, not statements), with their block id."""
    found: list[tuple[str, str | None]] = []
    for segment in segments:
        text = segment.text.strip()
        if not text or text.startswith(("#", "```", "|", ">")):
            continue
        for line in text.split("\n"):
            for sentence in split_sentences(_LIST_MARK.sub("", line)):
                if len(_words(sentence)) >= 3:
                    found.append((sentence.strip(), segment.block_id))
    return found[:MAX_SENTENCES]


def extract(segments: Sequence[Segment], max_sentences: int | None = None) -> list[Extract]:
    """The most central sentences, in document order."""
    found = candidates(segments)
    if not found:
        return []
    scores = rank([sentence for sentence, _ in found])
    wanted = max_sentences or max(3, min(12, round(len(found) ** 0.5)))
    best = sorted(range(len(found)), key=lambda i: (-scores[i], i))[:wanted]
    return [Extract(found[i][0], found[i][1], i, scores[i]) for i in sorted(best)]


def summarize(segments: Sequence[Segment], max_sentences: int | None = None) -> str:
    """The most central sentences, in document order, as a markdown list."""
    return "\n".join(f"- {e.sentence}" for e in extract(segments, max_sentences))
