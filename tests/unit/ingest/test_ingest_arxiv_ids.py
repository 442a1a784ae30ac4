"""arXiv identifiers: every accepted spelling, and the ones that must be refused."""

from __future__ import annotations

import pytest

from paperwire.ingest.arxiv_ids import InvalidArxivId, is_arxiv_id, parse_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2510.01459", ("2510.01459", None)),
        ("2510.01459v2", ("2510.01459", 2)),
        ("arXiv:2510.01459v2", ("2510.01459", 2)),
        ("ARXIV:2510.01459", ("2510.01459", None)),
        ("https://arxiv.org/abs/2510.01459v3", ("2510.01459", 3)),
        ("http://arxiv.org/pdf/2510.01459v1.pdf", ("2510.01459", 1)),
        ("https://arxiv.org/pdf/2510.01459", ("2510.01459", None)),
        ("https://www.arxiv.org/abs/2510.01459/", ("2510.01459", None)),
        ("https://arxiv.org/html/2510.01459v2", ("2510.01459", 2)),
        ("https://arxiv.org/abs/2510.01459?context=cs.CV", ("2510.01459", None)),
        ("/pdf/2510.01459", ("2510.01459", None)),
        ("export.arxiv.org/abs/2510.01459v4", ("2510.01459", 4)),
        ("http://export.arxiv.org/abs/hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("  2510.01459 \n", ("2510.01459", None)),
        ("0704.0001", ("0704.0001", None)),
        ("1412.9999v12", ("1412.9999", 12)),
        ("1501.00001", ("1501.00001", None)),
        ("hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("hep-th/9901001", ("hep-th/9901001", None)),
        # The subject class is an alias: math.GT/0309136 is math/0309136.
        ("math.GT/0309136", ("math/0309136", None)),
        ("cond-mat.mes-hall/0601001v1", ("cond-mat/0601001", 1)),
        ("oai:arXiv.org:0803.4354", ("0803.4354", None)),
        ("oai:arXiv.org:quant-ph/0210005", ("quant-ph/0210005", None)),
        ("http://arxiv.org/abs/quant-ph/0210005v1", ("quant-ph/0210005", 1)),
        ("http://arxiv.org/abs/physics/0507092v1", ("physics/0507092", 1)),
        ("Math/0309136", ("math/0309136", None)),
    ],
)
def test_accepted_spellings(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_arxiv_id(text) == expected
    assert is_arxiv_id(text)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not an arXiv id"),
        ("   ", "not an arXiv id"),
        ("hello", "not an arXiv id"),
        ("2510.1459", "5-digit"),  # 2015+ ids have five digits
        ("1412.00001", "4-digit"),  # before 2015 they have four
        ("2513.01459", "month"),
        ("2500.01459", "month"),
        ("0612.0001", "April 2007"),  # new style did not exist yet
        ("2510.01459v0", "v1"),
        ("2510.01459v", "not an arXiv id"),
        ("2510.01459.pdf", "not an arXiv id"),  # .pdf only after a URL path
        ("2510.01459?x=1", "not an arXiv id"),
        ("foo-bar/9901001", "unknown arXiv archive"),
        ("hep-th/9913001", "bad date"),
        ("hep-th/2001001", "bad date"),  # old style ended in 2007
        ("hep-th/990100", "not an arXiv id"),
        ("https://example.org/abs/2510.01459", "not an arXiv id"),
        ("arXiv:2510.01459 extra", "not an arXiv id"),
        ("10.1103/PhysRevD.76.013009", "not an arXiv id"),
    ],
)
def test_refused_spellings(text: str, reason: str) -> None:
    with pytest.raises(InvalidArxivId, match=reason):
        parse_arxiv_id(text)
    assert not is_arxiv_id(text)


def test_invalid_id_is_a_value_error_with_the_text() -> None:
    with pytest.raises(ValueError, match=r"'2510\.1459'"):
        parse_arxiv_id("2510.1459")
