"""Text clean-up: wrapped lines, arXiv paragraphs, author strings, LaTeX accents."""

from __future__ import annotations

import pytest

from paperwire.ingest.text import (
    clean_abstract,
    clean_line,
    clean_names,
    latex_accents_to_unicode,
    split_authors,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Advancing Pixel Space\n  Pre-training", "Advancing Pixel Space Pre-training"),
        ("  padded  ", "padded"),
        ("tab\tand\r\nreturn", "tab and return"),
        ("non\u00a0breaking", "non breaking"),
        ("already clean", "already clean"),
        ("Ünïcode stays", "Ünïcode stays"),
        ("", ""),
    ],
)
def test_clean_line_collapses_whitespace(text: str, expected: str) -> None:
    assert clean_line(text) == expected


def test_abstract_joins_wrapped_lines() -> None:
    text = "  We study wrapped\nlines of an abstract\nwith a trailing newline.\n"
    assert clean_abstract(text) == "We study wrapped lines of an abstract with a trailing newline."


def test_abstract_keeps_arxiv_indented_paragraphs() -> None:
    # arXiv's rule: a line starting with white space starts a new paragraph.
    text = "First paragraph, wrapped\nonce.\n  Second paragraph\nalso wrapped."
    assert (
        clean_abstract(text) == "First paragraph, wrapped once.\n\nSecond paragraph also wrapped."
    )


def test_abstract_keeps_blank_line_paragraphs() -> None:
    assert clean_abstract("One.\n\n\nTwo\nlines.") == "One.\n\nTwo lines."


def test_abstract_with_one_unwrapped_line_per_paragraph() -> None:
    # Every continuation line indented by 2: each is a paragraph (3,287 real listings).
    assert clean_abstract("A.\n  B.\n  C.") == "A.\n\nB.\n\nC."


def test_abstract_pretty_printed_by_xml_is_one_paragraph() -> None:
    text = "  Lines of\n                    an indented\n                    XML element.\n        "
    assert clean_abstract(text) == "Lines of an indented XML element."


def test_abstract_pretty_printed_with_a_stray_unindented_line() -> None:
    # A real OAI sample: one line break inside "${\\rm\\nPoisson}" was not re-indented.
    text = "Walks on a ${\\rm\nPoisson}$ tree.\n        Analogous results\n        are given."
    assert clean_abstract(text) == "Walks on a ${\\rm Poisson}$ tree. Analogous results are given."


def test_abstract_pretty_printed_keeps_deeper_indented_paragraphs() -> None:
    text = "Para one\n        continues.\n          Para two\n        continues."
    assert clean_abstract(text) == "Para one continues.\n\nPara two continues."


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("C. Bal\\'azs", "C. Balázs"),
        ("P\\'eter", "Péter"),
        ("R. Tom\\`as", "R. Tomàs"),
        ('Franz G\\"ahler', "Franz Gähler"),
        ("Rastislav \\v{S}r\\'amek", "Rastislav Šrámek"),
        ("Tom\\'a\\v{s} Vina\\v{r}", "Tomáš Vinař"),
        ("{\\O}bro", "{Ø}bro"),
        ("Gau\\ss", "Gauß"),
        ("\\'{\\i}", "í"),
        ("Fran\\c{c}ois", "François"),
        ("Erd\\H{o}s", "Erdős"),
        ("\\~nandu", "ñandu"),
        ("$\\uparrow$ \\left", "$\\uparrow$ \\left"),  # other macros are left alone
        ("no accents", "no accents"),
    ],
)
def test_latex_accents(latex: str, expected: str) -> None:
    assert latex_accents_to_unicode(latex) == expected


def test_split_authors_commas_and() -> None:
    assert split_authors("Ileana Streinu and Louis Theran") == ["Ileana Streinu", "Louis Theran"]
    assert split_authors("A.A. Serga, M. Kostylev, and B. Hillebrands") == [
        "A.A. Serga",
        "M. Kostylev",
        "B. Hillebrands",
    ]


def test_split_authors_drops_affiliations_with_commas_and_ands() -> None:
    text = (
        "A. S. Mishchenko (1 and 2) and N. Nagaosa (1 and 3) ((1) CREST, Japan\n"
        "  Science and Technology Agency, (2) Russian Research Centre ``Kurchatov\n"
        "  Institute'', (3) The University of Tokyo)"
    )
    assert split_authors(text) == ["A. S. Mishchenko", "N. Nagaosa"]


def test_split_authors_converts_accents_and_braces() -> None:
    assert split_authors("Mikkel {\\O}bro, C. Bal\\'azs") == ["Mikkel Øbro", "C. Balázs"]


def test_split_authors_suffix_and_et_al() -> None:
    assert split_authors("John Smith, Jr., Ann Lee, et al") == ["John Smith, Jr.", "Ann Lee"]


def test_split_authors_unclosed_parenthesis() -> None:
    assert split_authors("A. One, B. Two (Somewhere, far") == ["A. One", "B. Two"]


def test_split_authors_wrapped_name() -> None:
    assert split_authors("M. C. Valsakumar and N.\n  V. Chandra Shekar") == [
        "M. C. Valsakumar",
        "N. V. Chandra Shekar",
    ]


def test_clean_names_fast_and_slow_paths() -> None:
    clean = ["Ada Lovelace", "Alan Turing"]
    assert clean_names(clean) is clean  # nothing to do: the list itself
    assert clean_names([" Ada  Lovelace", "Alan\nTuring ", "   "]) == [
        "Ada Lovelace",
        "Alan Turing",
    ]
    assert clean_names([]) == []
    assert clean_names(["", "A"]) == ["A"]
    assert clean_names(["A\x1eB"]) == ["A B"]


def test_nul_becomes_the_replacement_character_on_every_path() -> None:
    # PostgreSQL's text refuses NUL: both backends store U+FFFD instead.
    assert clean_line("java\x00script") == "java\ufffdscript"
    assert clean_line("a \x00 \n b") == "a \ufffd b"
    assert clean_abstract("one\x00\n  two\x00") == "one\ufffd\n\ntwo\ufffd"
    assert clean_names(["Ada\x00", "Alan Turing"]) == ["Ada\ufffd", "Alan Turing"]
