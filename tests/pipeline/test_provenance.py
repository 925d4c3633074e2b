from suite_ai.llm.chunking import Segment
from suite_ai.pipeline.provenance import cited_block_ids, link_citations, tag
from suite_ai.pipeline.sources import markdown_segments


def test_blocks_get_short_references_and_citations_become_links_to_the_blocks():
    segments = [
        Segment("# Conseil du 3 mars", "b-title"),
        Segment("Le budget est adopté.", "b-budget"),
        Segment("Texte sans identifiant."),
        Segment("Mme Martin rédige le compte rendu.", "b-action"),
    ]
    tagged, references = tag(segments)
    text = "\n\n".join(segment.text for segment in tagged)
    assert text.splitlines()[0] == "[§1] # Conseil du 3 mars"
    assert "[§2] Le budget est adopté." in text
    assert "Texte sans identifiant." in text and "[§3] Mme Martin" in text
    output = "- Budget adopté [§2]\n- Compte rendu par Mme Martin [§3] [§9]\n"
    linked = link_citations(output, references, "https://docs.example/docs/d1/")
    assert "[§2](https://docs.example/docs/d1/#b-budget)" in linked
    assert "[§3](https://docs.example/docs/d1/#b-action)" in linked
    assert "§9" not in linked  # an invented reference is dropped, never linked
    assert cited_block_ids(output, references) == ["b-budget", "b-action"]


def test_existing_links_are_left_alone():
    _, references = tag([Segment("a", "b1")])
    assert link_citations("[§1](https://elsewhere)", references, None) == "[§1](https://elsewhere)"


def test_markdown_segments_keep_heading_paths_and_code_fences_whole():
    markdown = "# Titre\n\nIntro.\n\n## Partie A\n\nTexte A.\n\n```\ncode\n\nsuite\n```\n\n# Autre\n\nFin."
    segments = markdown_segments(markdown)
    assert [s.text for s in segments] == [
        "# Titre", "Intro.", "## Partie A", "Texte A.", "```\ncode\n\nsuite\n```", "# Autre", "Fin.",
    ]  # fmt: skip
    assert segments[3].heading_path == ("Titre", "Partie A")
    assert segments[6].heading_path == ("Autre",)
