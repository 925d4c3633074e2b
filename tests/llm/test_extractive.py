"""The offline extractive engine: TextRank, French and English, document order, deterministic."""

from __future__ import annotations

from pathlib import Path

from suite_ai.llm.chunking import Segment
from suite_ai.llm.extractive import extract, rank, summarize

FRENCH = (Path(__file__).parent / "data" / "fr_prose.txt").read_text()

MINUTES = [
    Segment("# Compte rendu du conseil", "h"),
    Segment("Le budget primitif a été adopté par le conseil municipal. Il fait beau ce matin.", "b1"),
    Segment("Le conseil municipal a débattu du budget primitif et des investissements.", "b2"),
    Segment("Les investissements du budget concernent les écoles et la voirie du conseil.", "b3"),
    Segment("Le chat de la mairie dort sur le radiateur depuis lundi.", "b4"),
    Segment("M. Durand devra transmettre le budget voté à la préfecture avant le 30 avril.", "b5"),
]


def test_keeps_central_sentences_in_document_order_and_drops_the_off_topic_ones():
    picked = extract(MINUTES, max_sentences=3)
    assert [e.position for e in picked] == sorted(e.position for e in picked)  # document order
    texts = [e.sentence for e in picked]
    assert "Le chat de la mairie dort sur le radiateur depuis lundi." not in texts
    assert "Il fait beau ce matin." not in texts
    assert all("budget" in t for t in texts)
    assert summarize(MINUTES, 3).startswith("- Le budget primitif")
    assert extract([Segment("# Titre seul")]) == []


def test_an_isolated_sentence_ranks_lowest_and_scores_are_a_distribution():
    sentences = [
        "Le budget de la commune finance les écoles.",
        "Les écoles de la commune reçoivent le budget voté.",
        "Le budget voté par la commune pour les écoles augmente.",
        "Un renard traverse la forêt enneigée.",
    ]
    scores = rank(sentences)
    assert scores.index(min(scores)) == 3
    assert abs(sum(scores) - 1) < 1e-6


def test_handles_a_long_french_text_deterministically():
    segments = [Segment(p, f"p{i}") for i, p in enumerate(FRENCH.split("\n\n")) if p.strip()]
    first, second = summarize(segments), summarize(segments)
    assert first == second  # deterministic
    lines = first.splitlines()
    assert 3 <= len(lines) <= 12
    assert all(line[2:] in FRENCH for line in lines)  # only says what the document says
    assert "budget primitif" in first
    assert not any(line.startswith("- Mme la Maire,") for line in lines)


def test_english_text_and_list_items():
    segments = [
        Segment("- The council approved the annual budget for schools.", "l1"),
        Segment("- The weather was nice.", "l2"),
        Segment("The annual budget for schools includes new buildings. The council will publish the budget.", "p"),
    ]
    picked = [e.sentence for e in extract(segments, max_sentences=2)]
    assert picked == [
        "The council approved the annual budget for schools.",
        "The annual budget for schools includes new buildings.",
    ]
