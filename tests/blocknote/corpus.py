"""A corpus of BlockNote documents in the style of French administrative writing, as Python data.

Each entry is a function returning fresh blocks (new UUID v4 ids every call). Together they cover every
default block, the blocks La Suite Docs adds, every mark, colours, alignment, empty blocks, hard breaks,
nested lists, tables with spans and header columns, accents, emoji and long texts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from suite_ai.blocknote import (
    Block,
    InlineNode,
    Link,
    StyledText,
    TableCell,
    TableContent,
    make_block,
    markdown_to_blocks,
)

# --- builders ---------------------------------------------------------------------------------------------


def t(text: str, **styles: Any) -> StyledText:
    return StyledText(text, styles)


def a(href: str, *runs: StyledText | str) -> Link:
    return Link(href, [run if isinstance(run, StyledText) else StyledText(run) for run in runs])


def _content(parts: tuple[Any, ...]) -> list[Any]:
    return [StyledText(part) if isinstance(part, str) else part for part in parts]


def p(*parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("paragraph", _content(parts), children or [], **props)


def h(level: int, *parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("heading", _content(parts), children or [], level=level, **props)


def li(*parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("bulletListItem", _content(parts), children or [], **props)


def ol(*parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("numberedListItem", _content(parts), children or [], **props)


def todo(checked: bool, *parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("checkListItem", _content(parts), children or [], checked=checked, **props)


def toggle(*parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("toggleListItem", _content(parts), children or [], **props)


def quote(*parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("quote", _content(parts), children or [], **props)


def code(text: str, language: str = "text") -> Block:
    return make_block("codeBlock", [StyledText(text)] if text else [], language=language)


def divider() -> Block:
    return make_block("divider")


def callout(*parts: Any, children: list[Block] | None = None, **props: Any) -> Block:
    return make_block("callout", _content(parts), children or [], **props)


def cell(*parts: Any, **props: Any) -> TableCell:
    base = {"colspan": 1, "rowspan": 1, "backgroundColor": "default", "textColor": "default", "textAlignment": "left"}
    return TableCell(_content(parts), {**base, **props})


def table(
    rows: list[list[TableCell]],
    *,
    header_rows: int | None = 1,
    header_cols: int | None = None,
    widths: list[int | float | None] | None = None,
    **props: Any,
) -> Block:
    columns = sum(c.props["colspan"] for c in rows[0])
    content = TableContent(rows, widths if widths is not None else [None] * columns, header_rows, header_cols)
    return make_block("table", content, **props)


def link_to_doc(doc_id: str, title: str) -> InlineNode:
    return InlineNode("interlinkingLinkInline", {"docId": doc_id, "disabled": False, "trigger": "/", "title": title})


LOREM = (
    "Conformément aux dispositions du code des relations entre le public et l'administration, la présente "
    "note précise les modalités de traitement des demandes déposées par voie électronique. "
)


# --- documents ----------------------------------------------------------------------------------------------


def doc_note_de_service() -> list[Block]:
    return [
        h(1, "Note de service n° 2024-017"),
        p("Objet : ", t("modalités de télétravail", bold=True), " au sein de la direction."),
        p("Références : ", a("https://www.legifrance.gouv.fr/loda/id/JORFTEXT000043956924", "décret n° 2021-1123")),
        h(2, "1. Principes généraux"),
        p(LOREM),
    ]


def doc_compte_rendu() -> list[Block]:
    return [
        h(1, "Compte rendu de la réunion du 12 mars"),
        p(t("Présents : ", bold=True), "Mme Dupont, M. Lefèvre, Mme N'Diaye"),
        h(2, "Ordre du jour"),
        ol("Validation du procès-verbal précédent"),
        ol("Point budgétaire", children=[li("Crédits de paiement"), li("Autorisations d'engagement")]),
        ol("Questions diverses"),
        h(2, "Décisions"),
        todo(True, "Valider le calendrier"),
        todo(False, "Transmettre le dossier à la préfecture"),
    ]


def doc_marks() -> list[Block]:
    return [
        p(
            t("gras", bold=True),
            " ",
            t("italique", italic=True),
            " ",
            t("souligné", underline=True),
            " ",
            t("barré", strike=True),
            " ",
            t("code_inline()", code=True),
            " ",
            t("gras-italique", bold=True, italic=True),
            " ",
            t("tout", bold=True, italic=True, underline=True, strike=True),
        ),
        p(
            t("rouge", textColor="red"),
            " et ",
            t("surligné", backgroundColor="yellow"),
            " et ",
            t("les deux", textColor="blue", backgroundColor="gray", bold=True),
        ),
    ]


def doc_colours_alignment() -> list[Block]:
    return [
        h(2, "Titre centré", textAlignment="center", textColor="purple"),
        p("Paragraphe aligné à droite", textAlignment="right", backgroundColor="yellow"),
        p("Paragraphe justifié. " * 5, textAlignment="justify"),
        li("Puce orange", textColor="orange"),
        quote("Citation sur fond bleu", backgroundColor="blue", textColor="brown"),
    ]


def doc_empty_blocks() -> list[Block]:
    return [
        p(),
        h(3),
        p("Entre deux vides"),
        li(),
        ol(),
        todo(False),
        quote(),
        code(""),
        p(),
    ]


def doc_nested_lists() -> list[Block]:
    return [
        li(
            "Niveau 1",
            children=[
                li(
                    "Niveau 2",
                    children=[
                        li("Niveau 3", children=[li("Niveau 4 🚀", children=[ol("Niveau 5 numéroté")])]),
                    ],
                ),
                ol("Numéroté dans une puce"),
            ],
        ),
        li("Retour au niveau 1"),
    ]


def doc_table_simple() -> list[Block]:
    return [
        h(2, "Tableau des effectifs"),
        table(
            [
                [cell("Service"), cell("ETP"), cell("Évolution")],
                [cell("Ressources humaines"), cell("12,5"), cell("+3 %")],
                [cell("Affaires juridiques"), cell("8"), cell(t("−1", bold=True))],
            ]
        ),
    ]


def doc_table_spans() -> list[Block]:
    return [
        table(
            [
                [cell("Période", rowspan=2), cell("Crédits", colspan=2)],
                [cell("AE"), cell("CP")],
                [cell("2024"), cell("1 200 000 €", textAlignment="right"), cell("950 000 €", textAlignment="right")],
            ],
            header_rows=2,
        ),
    ]


def doc_table_props() -> list[Block]:
    return [
        table(
            [
                [cell("Critère", backgroundColor="gray"), cell("Note", textColor="red", textAlignment="center")],
                [cell("Pertinence"), cell("4/5")],
                [cell("Faisabilité\nsur deux lignes"), cell(a("https://example.org/grille", "grille"))],
            ],
            header_rows=1,
            header_cols=1,
            widths=[220, 90],
            textColor="blue",
        ),
    ]


def doc_table_no_header() -> list[Block]:
    return [table([[cell("a"), cell("b")], [cell(""), cell("d")]], header_rows=None)]


def doc_code() -> list[Block]:
    return [
        p("Extrait du script d'import :"),
        code("import csv\n\nfor ligne in csv.reader(open('agents.csv')):\n    print(ligne[0])  # é", "python"),
        code("SELECT nom, prénom FROM agents WHERE service = 'DRH';", "sql"),
        code("sans langage\n\tavec tabulation"),
    ]


def doc_hard_breaks() -> list[Block]:
    return [
        p("Madame la Préfète,\nMonsieur le Directeur,\n\nObjet : demande"),
        p(t("Gras avant", bold=True), "\n", "après le saut"),
        p("\nCommence par un saut"),
        p("Finit par un saut\n"),
        li("Puce\nsur deux lignes"),
        h(2, "Titre\navec saut"),
    ]


def doc_links() -> list[Block]:
    return [
        p(
            "Voir ",
            a("https://www.service-public.fr", "service-public.fr"),
            " et ",
            a("https://www.data.gouv.fr/fr/datasets/?q=é", t("data.gouv", bold=True), " ", t("(jeux)", italic=True)),
            ".",
        ),
        p(a("mailto:contact@interieur.gouv.fr", "contact@interieur.gouv.fr")),
        li(a("https://example.org/a", "lien A"), a("https://example.org/b", "lien B")),
    ]


def doc_quote_toggle() -> list[Block]:
    return [
        quote("« Nul n'est censé ignorer la loi. »", children=[p("Adage juridique")]),
        toggle("Détails (cliquer pour déplier)", children=[p("Contenu masqué"), li("Point caché")]),
        h(2, "Titre repliable", isToggleable=True, children=[p("Sous le titre repliable")]),
    ]


def doc_headings() -> list[Block]:
    return [h(level, f"Titre de niveau {level}") for level in range(1, 7)]


def doc_media() -> list[Block]:
    return [
        make_block(
            "image",
            url="https://docs.numerique.gouv.fr/media/logo.png",
            name="logo.png",
            caption="Logo de la direction",
            previewWidth=512,
            textAlignment="center",
        ),
        make_block("image", url="https://example.org/sans-largeur.jpg"),
        make_block("file", url="https://example.org/rapport.pdf", name="rapport.pdf", caption="Rapport annuel"),
        make_block("video", url="https://example.org/presentation.mp4", name="presentation.mp4", showPreview=False),
        make_block("audio", url="https://example.org/entretien.mp3", name="entretien.mp3"),
        divider(),
        p("Fin des pièces jointes"),
    ]


def doc_numbered_start() -> list[Block]:
    return [
        ol("Quatrième point", start=4),
        ol("Cinquième point"),
        p("Interruption"),
        ol("Nouvelle liste"),
    ]


def doc_emoji_accents() -> list[Block]:
    return [
        h(1, "Été 2024 ☀️ — bilan"),
        p("Œuvre, cœur, ça, où, naïve, Noël, «guillemets», l’apostrophe typographique… 👩🏽‍💻🇫🇷"),
        p(t("Émoji en gras 🎉", bold=True), t(" puis 🧪 en italique", italic=True)),
        p("Caractères spéciaux : * _ ` [ ] < > # | ~ & \\ %"),
    ]


def doc_long_text() -> list[Block]:
    return [h(1, "Rapport long"), *[p(f"§ {i}. " + LOREM * 8) for i in range(1, 26)]]


def doc_many_blocks() -> list[Block]:
    blocks: list[Block] = []
    for i in range(60):
        blocks.append(h(2, f"Section {i}"))
        blocks.append(p("Texte de la section ", t(str(i), bold=True)))
        blocks.append(li(f"Élément {i}"))
    return blocks


def doc_callout() -> list[Block]:
    return [
        callout("Point d'attention : ", t("date limite le 30 juin", bold=True)),
        callout("Information", emoji="ℹ️", backgroundColor="blue", textAlignment="center"),
        callout(),
    ]


def doc_docs_blocks() -> list[Block]:
    return [
        make_block("pdf", url="https://example.org/arrete.pdf", name="arrete.pdf", caption="Arrêté", previewWidth=600),
        make_block(
            "uploadLoader",
            information="Téléversement en cours…",
            type="loading",
            blockUploadName="annexe.docx",
            blockUploadType="file",
        ),
        make_block("pageBreak"),
        p("Après le saut de page"),
    ]


def doc_interlinking() -> list[Block]:
    return [
        p("Voir aussi ", link_to_doc("6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f", "Procédure d'achat"), " pour le détail."),
        p(link_to_doc("0b6c1c9e-9f3a-4a57-b9a1-5c0e7f8d2a11", "Note interne")),
    ]


def doc_children_of_paragraph() -> list[Block]:
    return [p("Parent", children=[p("Enfant 1"), p("Enfant 2", children=[p("Petit-enfant")])])]


def doc_checklist() -> list[Block]:
    return [
        h(2, "Liste de contrôle RGPD"),
        todo(True, "Registre des traitements à jour"),
        todo(False, "Analyse d'impact ", t("(AIPD)", italic=True), children=[todo(False, "Consulter le DPO")]),
        todo(True, a("https://www.cnil.fr", "Information des personnes")),
    ]


def doc_letter() -> list[Block]:
    return [
        p("Paris, le 3 avril 2024", textAlignment="right"),
        p("Le directeur général\nà\nMesdames et Messieurs les chefs de service"),
        p(t("Objet :", bold=True), " organisation des élections professionnelles"),
        p(LOREM * 3),
        p("Je vous prie d'agréer, Madame, Monsieur, l'expression de ma considération distinguée."),
        p(t("Signé : ", italic=True), "J. Martin", textAlignment="right"),
    ]


def doc_from_markdown_summary() -> list[Block]:
    return markdown_to_blocks(
        "# Synthèse\n\n**Points clés**\n\n- Budget en hausse de *3 %*\n- Recrutements : 4 postes\n"
        "  - dont 2 contractuels\n\n## Décisions\n\n1. Lancer l'appel d'offres\n2. Informer le CSA\n\n"
        "> À valider en comité de direction.\n\n- [ ] Préparer la note\n- [x] Réserver la salle\n"
    )


def doc_from_markdown_table() -> list[Block]:
    return markdown_to_blocks(
        "| Indicateur | 2023 | 2024 |\n|:--|:-:|--:|\n| Dossiers traités | 1 204 | 1 378 |\n"
        "| Délai moyen (j) | 42 | **35** |\n\nSource : [tableau de bord](https://example.org/tdb)\n"
    )


def doc_mixed_inline_styles_in_links() -> list[Block]:
    return [
        p(a("https://example.org", t("gras ", bold=True), t("italique", italic=True), t(" souligné", underline=True))),
        p(t("couleur ", textColor="green"), a("https://example.org/c", t("lien coloré", textColor="green")), "."),
    ]


def doc_single_paragraph() -> list[Block]:
    return [p("Document d'une seule ligne.")]


def doc_whitespace() -> list[Block]:
    return [p("  espaces  en  début  et  fin  "), p("\ttabulation\t"), p(" ")]


def doc_deep_mixed_nesting() -> list[Block]:
    return [
        ol(
            "Étape 1",
            children=[
                todo(False, "Sous-tâche", children=[quote("Remarque", children=[code("x = 1", "python")])]),
                toggle("Dépliable", children=[table([[cell("a"), cell("b")]])]),
            ],
        ),
        ol("Étape 2", children=[make_block("image", url="https://example.org/schema.png", name="schema.png")]),
    ]


def doc_marks_adjacent() -> list[Block]:
    return [
        p(
            t("a", bold=True),
            t("b", bold=True, italic=True),
            t("c", italic=True),
            t("d"),
            t("e", code=True),
            t("f", code=True, bold=True),
        ),
        p(t(" espace au début", bold=True), t("fin avec espace ", italic=True), "suite"),
    ]


def doc_comment_like_text() -> list[Block]:
    return [p("<!-- pas un commentaire --> & &amp; &lt;balise&gt; <b>pas du gras</b>")]


CORPUS: dict[str, Callable[[], list[Block]]] = {
    fn.__name__.removeprefix("doc_"): fn
    for fn in (
        doc_note_de_service,
        doc_compte_rendu,
        doc_marks,
        doc_colours_alignment,
        doc_empty_blocks,
        doc_nested_lists,
        doc_table_simple,
        doc_table_spans,
        doc_table_props,
        doc_table_no_header,
        doc_code,
        doc_hard_breaks,
        doc_links,
        doc_quote_toggle,
        doc_headings,
        doc_media,
        doc_numbered_start,
        doc_emoji_accents,
        doc_long_text,
        doc_many_blocks,
        doc_callout,
        doc_docs_blocks,
        doc_interlinking,
        doc_children_of_paragraph,
        doc_checklist,
        doc_letter,
        doc_from_markdown_summary,
        doc_from_markdown_table,
        doc_mixed_inline_styles_in_links,
        doc_single_paragraph,
        doc_whitespace,
        doc_deep_mixed_nesting,
        doc_marks_adjacent,
        doc_comment_like_text,
    )
}

#: Documents that use only BlockNote's default schema (render in a plain BlockNote editor too).
DOCS_ONLY = frozenset({"callout", "docs_blocks", "interlinking"})
