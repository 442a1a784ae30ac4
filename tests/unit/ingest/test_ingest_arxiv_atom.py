"""arXiv Atom API responses: the real sample, API errors, bad entries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperwire.ingest.arxiv_atom import ArxivApiError, parse_atom_feed
from paperwire.ingest.xmltree import XmlSyntaxError
from paperwire.models import ParsedRecord, RecordError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
ATOM_SAMPLE = DATA / "arxiv-formats" / "atom-api-query.xml"


@pytest.fixture(scope="module")
def records() -> list[ParsedRecord]:
    page = parse_atom_feed(ATOM_SAMPLE.read_bytes(), str(ATOM_SAMPLE))
    assert (page.total_results, page.start_index, page.items_per_page) == (120839, 0, 10)
    assert all(isinstance(r, ParsedRecord) for r in page.records)
    return [r for r in page.records if isinstance(r, ParsedRecord)]


def test_ids_old_and_new_style(records: list[ParsedRecord]) -> None:
    assert [r.paper.id for r in records] == [
        "1501.05039",
        "1503.01162",
        "quant-ph/0210005",
        "0808.0631",
        "0808.0638",
        "0808.0639",
        "0705.1367",
        "1802.03292",
        "physics/0507092",
        "1312.7288",
    ]
    assert {r.paper.version for r in records} == {1}
    assert [r.line for r in records][:3] == [10, 33, 80]


def test_first_entry(records: list[ParsedRecord]) -> None:
    paper = records[0].paper
    assert paper.source == "arxiv"
    assert paper.title == "Defining Data Science"
    assert paper.authors == ["Yangyong Zhu", "Yun Xiong"]
    assert paper.categories == ["cs.DB", "cs.CY"]
    assert paper.submitted_at == paper.updated_at == datetime(2015, 1, 21, 2, 41, 55, tzinfo=UTC)
    assert paper.abstract.startswith("Data science is gaining more and more and widespread")
    assert paper.abstract.endswith("the science of exploring datanature.")
    assert "\n" not in paper.abstract
    assert paper.comments is None
    assert paper.doi is None
    assert paper.journal_ref is None


def test_arxiv_extension_elements(records: list[ParsedRecord]) -> None:
    paper = records[1].paper
    assert paper.title == (
        "Report on a Boston University Conference December 7-8, 2012 on 'How Can the History "
        "and Philosophy of Science Contribute to Contemporary U.S. Science Teaching?'"
    )
    assert paper.authors == ["Peter Garik", "Yann Benétreau-Dupin"]
    assert paper.categories == ["physics.ed-ph", "physics.hist-ph", "physics.soc-ph"]
    assert paper.doi == "10.1007/s11191-014-9716-8"
    assert paper.journal_ref == "Science & Education, September 2014, 23(9): 1853-1873"
    assert paper.comments == "Conference funded by NSF grant REESE-1205273. 31 pages"
    old = records[2].paper
    assert old.comments == (
        "6 pages, invited contribution to QCMC 2002, a considerably abbreviated version of "
        "quant-ph/0208078"
    )
    assert old.submitted_at == datetime(2002, 10, 1, 13, 23, 14, tzinfo=UTC)


def test_msc_and_acm_classes_are_not_categories(records: list[ParsedRecord]) -> None:
    # <category term="03B70, 68Q99"/> and <category term="F.4.1; F.4.m; K.2"/>
    assert records[7].paper.categories == ["cs.LO"]


# --- synthetic feeds ---------------------------------------------------------------

FEED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">\n'
    "{entries}</feed>\n"
)


def entry(arxiv_id: str = "2401.00001v3", extra: str = "") -> str:
    return (
        "<entry>\n"
        f"<id>http://arxiv.org/abs/{arxiv_id}</id>\n"
        "<published>2024-01-01T10:00:00Z</published><updated>2024-02-01T10:00:00Z</updated>\n"
        "<title>T</title><summary>S.</summary>\n"
        "<author><name>A. One</name></author>\n"
        '<category term="cs.AI"/><category term="cs.CL"/>\n'
        f'<arxiv:primary_category term="cs.CL"/>{extra}\n'
        "</entry>\n"
    )


def test_primary_category_first_and_version() -> None:
    page = parse_atom_feed(FEED.format(entries=entry()).encode(), "a.xml")
    [record] = page.records
    assert isinstance(record, ParsedRecord)
    assert record.paper.categories == ["cs.CL", "cs.AI"]
    assert (record.paper.id, record.paper.version) == ("2401.00001", 3)
    assert record.paper.updated_at == datetime(2024, 2, 1, 10, tzinfo=UTC)
    assert page.total_results is None


def test_bad_entry_is_reported_at_its_line() -> None:
    bad = entry("not-an-id")
    page = parse_atom_feed(FEED.format(entries=entry() + bad + entry()).encode(), "a.xml")
    assert [type(r) for r in page.records] == [ParsedRecord, RecordError, ParsedRecord]
    error = page.records[1]
    assert isinstance(error, RecordError)
    assert error.line == 11
    assert "not-an-id" in error.message


def test_api_error_entry_raises() -> None:
    error_entry = (
        "<entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.1234</id>"
        "<title>Error</title><summary>incorrect id format for 1234.1234</summary></entry>"
    )
    data = FEED.format(entries=error_entry).encode()
    with pytest.raises(ArxivApiError, match=r"incorrect id format for 1234\.1234"):
        parse_atom_feed(data, "a.xml")


def test_not_a_feed() -> None:
    with pytest.raises(ArxivApiError, match="not an Atom feed"):
        parse_atom_feed(b"<html></html>", "a.xml")
    with pytest.raises(XmlSyntaxError):
        parse_atom_feed(b"<feed", "a.xml")
