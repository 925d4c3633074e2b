"""Markdown both ways: model input with provenance, model output into the supported subset only."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import suite_ai.blocknote as bn
from tests.blocknote.corpus import CORPUS, a, cell, code, h, li, link_to_doc, ol, p, quote, t, table, todo
from tests.blocknote.strategies import PIECES

# Overlapping (not nested) bold and italic runs have no unambiguous CommonMark form.
NOT_IDEMPOTENT = {"marks_adjacent"}


def _shape(blocks: list[bn.Block]) -> list:
    return [(b.type, b.plain_text(), _shape(b.children)) for b in blocks]


# --- blocks → markdown -----------------------------------------------------------------------------


def test_rendering_of_a_typical_document() -> None:
    blocks = [
        h(1, "Compte rendu"),
        p("Présents : ", t("Mme Dupont", bold=True), ", voir ", a("https://ex.org/pv", "le PV"), "."),
        ol("Budget", children=[li("hausse de ", t("3 %", italic=True))]),
        ol("Recrutement"),
        todo(True, "Valider"),
        quote("À retenir\nabsolument"),
        code("print('é')", "python"),
        table([[cell("A"), cell("B", textAlignment="center")], [cell("1 | 2"), cell(t("x", code=True))]]),
        bn.make_block("divider"),
        bn.make_block("image", url="https://ex.org/i.png", name="schéma", caption="Figure 1"),
        p(),
        p(t("souligné", underline=True), " ", t("barré", strike=True), " ", t("code", code=True)),
    ]
    assert bn.blocks_to_markdown(blocks).markdown == (
        "# Compte rendu\n\n"
        "Présents : **Mme Dupont**, voir [le PV](https://ex.org/pv).\n\n"
        "1. Budget\n"
        "   - hausse de *3 %*\n"
        "2. Recrutement\n"
        "- [x] Valider\n\n"
        "> À retenir\\\n"
        "> absolument\n\n"
        "```python\nprint('é')\n```\n\n"
        "| A | B |\n| --- | :---: |\n| 1 \\| 2 | `x` |\n\n"
        "---\n\n"
        '![schéma](https://ex.org/i.png "Figure 1")\n\n'
        "<u>souligné</u> ~~barré~~ `code`"
    )


def test_spans_map_every_character_back_to_its_block() -> None:
    blocks = CORPUS["compte_rendu"]() + CORPUS["nested_lists"]() + CORPUS["table_simple"]()
    rendering = bn.blocks_to_markdown(blocks)
    spans = rendering.spans
    ids = [b.id for b in bn.iter_blocks(blocks)]
    assert [span.block_id for span in spans] == ids  # every non-empty block, in document order
    for previous, span in itertools.pairwise(spans):
        assert previous.end <= span.start
    by_id = {b.id: b for b in bn.iter_blocks(blocks)}
    for span in spans:
        block = by_id[span.block_id]
        assert span.type == block.type
        (parsed,) = bn.markdown_to_blocks(rendering.markdown[span.start : span.end])
        assert (parsed.type, parsed.plain_text()) == (block.type, block.plain_text())
        for offset in (span.start, (span.start + span.end) // 2, span.end - 1):
            assert rendering.block_id_at(offset) == span.block_id
        assert rendering.block_id_at(span.end) != span.block_id or span.end == span.start
    nested = [s for s in spans if s.depth == 4]
    assert nested and rendering.markdown[nested[0].start : nested[0].end] == "1. Niveau 5 numéroté"
    assert rendering.block_id_at(len(rendering.markdown) + 10) is None
    first, second = spans[0], spans[1]
    assert rendering.block_ids_between(first.start, second.start + 1) == [first.block_id, second.block_id]
    assert rendering.block_id_at(first.end) is None  # the blank line between blocks


def test_empty_blocks_render_nothing() -> None:
    rendering = bn.blocks_to_markdown([p(), h(2), p("seul"), li()])
    assert rendering.markdown == "seul\n\n- "
    assert [s.type for s in rendering.spans] == ["paragraph", "bulletListItem"]


def test_special_characters_are_escaped() -> None:
    text = "* pas une liste _ni_ `code` [ni](lien) <b>ni html</b> &amp; ~~ni barré~~ # ni titre"
    markdown = bn.blocks_to_markdown([p(text)]).markdown
    assert _shape(bn.markdown_to_blocks(markdown)) == [("paragraph", text, [])]
    for line_start in ("# titre", "- puce", "+ puce", "1. un", "> citation", "---", "===", "12) douze"):
        rendered = bn.blocks_to_markdown([p(line_start)]).markdown
        assert _shape(bn.markdown_to_blocks(rendered)) == [("paragraph", line_start, [])], rendered
    assert bn.blocks_to_markdown([p("snake_case_name")]).markdown == "snake_case_name"


def test_docs_blocks_render_as_readable_markdown() -> None:
    markdown = bn.blocks_to_markdown(
        [
            bn.make_block("callout", "Attention", emoji="⚠️"),
            p("Voir ", link_to_doc("abc", "Note")),
            *CORPUS["docs_blocks"](),
        ]
    ).markdown
    assert markdown == (
        "> ⚠️ Attention\n\nVoir [Note](/docs/abc/)\n\n[arrete.pdf](https://example.org/arrete.pdf)\n\n"
        "Après le saut de page"
    )


@pytest.mark.parametrize("name", sorted(set(CORPUS) - NOT_IDEMPOTENT))
def test_markdown_of_the_corpus_is_a_fixed_point(name: str) -> None:
    once = bn.blocks_to_markdown(CORPUS[name]()).markdown
    twice = bn.blocks_to_markdown(bn.markdown_to_blocks(once)).markdown
    assert twice == once


# --- markdown → blocks -----------------------------------------------------------------------------


def test_every_supported_construct() -> None:
    blocks = bn.markdown_to_blocks(
        "# Titre 1\n\n###### Titre 6\n\nSetext\n---\n\n"
        'Texte **gras** *italique* ~~barré~~ `code` <u>souligné</u> [lien](https://ex.org "t")\n'
        "ligne suivante  \ndernière\n\n"
        "- puce\n  - imbriquée\n\n    paragraphe enfant\n\n"
        "3. trois\n4. quatre\n\n"
        "- [ ] à faire\n- [X] fait\n\n"
        "> citation\n> suite\n>\n> second paragraphe\n> - liste dans la citation\n\n"
        "```js\nconst a = 1;\n```\n\n    indenté\n\n***\n\n"
        "| G | C | D |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n\n"
        '![alt](https://ex.org/i.png "Légende")\n'
    )
    types = [(b.type, b.plain_text()) for b in blocks]
    assert types == [
        ("heading", "Titre 1"),
        ("heading", "Titre 6"),
        ("heading", "Setext"),
        ("paragraph", "Texte gras italique barré code souligné lien\nligne suivante\ndernière"),
        ("bulletListItem", "puce"),
        ("numberedListItem", "trois"),
        ("numberedListItem", "quatre"),
        ("checkListItem", "à faire"),
        ("checkListItem", "fait"),
        ("quote", "citation\nsuite\nsecond paragraphe"),
        ("codeBlock", "const a = 1;"),
        ("codeBlock", "indenté"),
        ("divider", ""),
        ("table", "G | C | D\n1 | 2 | 3"),
        ("image", ""),
    ]
    assert [b.props["level"] for b in blocks[:3]] == [1, 6, 2]
    paragraph = blocks[3]
    assert paragraph.content[:8] == [
        bn.StyledText("Texte ", {}),
        bn.StyledText("gras", {"bold": True}),
        bn.StyledText(" ", {}),
        bn.StyledText("italique", {"italic": True}),
        bn.StyledText(" ", {}),
        bn.StyledText("barré", {"strike": True}),
        bn.StyledText(" ", {}),
        bn.StyledText("code", {"code": True}),
    ]
    assert bn.StyledText("souligné", {"underline": True}) in paragraph.content
    # a line break after a link joins the link, as in BlockNote JSON
    assert bn.Link("https://ex.org", [bn.StyledText("lien\n", {})]) in paragraph.content
    bullet = blocks[4]
    assert _shape(bullet.children) == [("bulletListItem", "imbriquée", [("paragraph", "paragraphe enfant", [])])]
    assert blocks[5].props["start"] == 3 and "start" not in blocks[6].props
    assert [b.props["checked"] for b in blocks[7:9]] == [False, True]
    assert _shape(blocks[9].children) == [("bulletListItem", "liste dans la citation", [])]
    assert blocks[10].props["language"] == "js" and blocks[11].props["language"] == "text"
    table_content = blocks[13].content
    assert isinstance(table_content, bn.TableContent) and table_content.header_rows == 1
    assert [c.props["textAlignment"] for c in table_content.rows[1]] == ["left", "center", "right"]
    assert blocks[14].props | {} == {
        "textAlignment": "left",
        "backgroundColor": "default",
        "name": "alt",
        "url": "https://ex.org/i.png",
        "caption": "Légende",
        "showPreview": True,
    }
    bn.validate_blocks(blocks)


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("<div class='x'>bloc html</div>", [("paragraph", "<div class='x'>bloc html</div>", [])]),
        ("Du texte[^1].\n\n[^1]: une note", [("paragraph", "Du texte[^1].", []), ("paragraph", "[^1]: une note", [])]),
        ("$$x^2$$", [("paragraph", "$$x^2$$", [])]),
        ("Texte <span>inline</span> et <br> fin", [("paragraph", "Texte <span>inline</span> et \n fin", [])]),
        ("[lien dangereux](javascript:alert(1))", [("paragraph", "[lien dangereux](javascript:alert(1))", [])]),
        ("Image ![inline](https://ex.org/i.png) dans le texte", [("paragraph", "Image inline dans le texte", [])]),
        ("> > citation imbriquée", [("quote", "", [("quote", "citation imbriquée", [])])]),
        ("- \n  - enfant d'un item vide", [("bulletListItem", "", [("bulletListItem", "enfant d'un item vide", [])])]),
        ("1. un\n\n   ```\n   code\n   ```", [("numberedListItem", "un", [("codeBlock", "code", [])])]),
        ("<https://auto.link>", [("paragraph", "https://auto.link", [])]),
        ("", []),
        ("   \n\n  ", []),
    ],
)
def test_anything_else_degrades_to_paragraphs(markdown: str, expected: list) -> None:
    blocks = bn.markdown_to_blocks(markdown)
    assert _shape(blocks) == expected
    bn.validate_blocks(blocks)
    bn.new_document_update(blocks)


def test_links_keep_their_destination_as_written() -> None:
    (block,) = bn.markdown_to_blocks("[data](https://www.data.gouv.fr/fr/datasets/?q=é&x=1)")
    assert block.content == [bn.Link("https://www.data.gouv.fr/fr/datasets/?q=é&x=1", [bn.StyledText("data", {})])]


def test_fresh_uuid4_ids() -> None:
    first = bn.markdown_to_blocks("a\n\nb")
    second = bn.markdown_to_blocks("a\n\nb")
    assert len({b.id for b in first + second}) == 4


MARKDOWNISH = st.lists(
    st.one_of(
        PIECES,
        st.sampled_from(
            [
                "\n",
                "\n\n",
                "# ",
                "- ",
                "1. ",
                "> ",
                "```",
                "**",
                "*",
                "~~",
                "|",
                "---",
                "<u>",
                "</u>",
                "[",
                "](",
                ")",
                "![",
                "<div>",
                "    ",
                "- [ ] ",
                "\t",
                "&amp;",
                "\\",
            ]
        ),
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(MARKDOWNISH)
def test_any_markdown_gives_valid_writable_blocks(markdown: str) -> None:
    blocks = bn.markdown_to_blocks(markdown)
    bn.validate_blocks(blocks)
    update = bn.new_document_update(blocks)
    read = bn.read_update(update).blocks
    if blocks:
        assert bn.blocks_to_json(read) == bn.blocks_to_json([bn.normalize_block(b) for b in blocks])
    else:  # nothing to say: a new document still has its one empty paragraph
        assert [(b.type, b.content) for b in read] == [("paragraph", [])]


WORDS = st.lists(
    st.sampled_from(
        [
            "Le",
            "préfet",
            "a",
            "signé",
            "l’arrêté",
            "n°",
            "42",
            "🚀",
            "(urgent)",
            "*",
            "_x_",
            "[1]",
            "<tag>",
            "&",
            "#",
            "-",
            "1.",
            "`",
            "~",
            "|",
            "\\",
        ]
    ),
    min_size=1,
    max_size=12,
).map(" ".join)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(
            WORDS,
            st.sampled_from(
                [
                    {},
                    {"bold": True},
                    {"italic": True},
                    {"code": True},
                    {"strike": True},
                    {"underline": True},
                    {"bold": True, "italic": True},
                ]
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_text_survives_the_markdown_round_trip(runs: list[tuple[str, dict]]) -> None:
    content = []
    for index, (text, styles) in enumerate(runs):
        content.append(bn.StyledText(("" if index == 0 else " ") + text, styles))
    for block in (p(*content), li(*content), quote(*content), h(2, *content)):
        back = bn.markdown_to_blocks(bn.blocks_to_markdown([block]).markdown)
        assert _shape(back) == [(block.type, block.plain_text(), [])]
