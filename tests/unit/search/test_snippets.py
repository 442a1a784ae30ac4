"""Snippets: the best window, stemmed matches marked, everything escaped."""

from __future__ import annotations

from paperwire.search.snippets import highlight_title, query_terms, snippet


def test_stemmed_terms_are_marked() -> None:
    terms = query_terms("training models")
    html = str(highlight_title("A Model for Trained Networks", terms))
    assert html == "A <mark>Model</mark> for <mark>Trained</mark> Networks"


def test_the_window_with_most_terms_is_chosen() -> None:
    filler = " ".join(["filler"] * 100)
    abstract = f"{filler} the quantum annealing result is here {filler}"
    html = str(snippet(abstract, query_terms("quantum annealing")))
    assert "<mark>quantum</mark> <mark>annealing</mark>" in html
    assert html.startswith("… ")
    assert html.endswith("…")


def test_html_in_papers_is_escaped() -> None:
    html = str(snippet("<script>alert(1)</script> attack vectors", query_terms("attack")))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<mark>attack</mark>" in html


def test_no_terms_gives_the_start() -> None:
    assert str(snippet("Short abstract.", query_terms(""))) == "Short abstract."


def test_stems_that_are_not_prefixes_still_match() -> None:
    html = str(highlight_title("Happy studies", query_terms("happiness study")))
    assert html == "<mark>Happy</mark> <mark>studies</mark>"


def test_a_long_abstract_is_cut_to_the_window() -> None:
    html = str(snippet("word " * 400 + "needle", query_terms("needle"), width=100))
    assert len(html) < 150
    assert "<mark>needle</mark>" in html
