"""OAI-PMH arXivRaw pages: the real ListRecords and GetRecord samples, errors, bad records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from paperwire.ingest.arxiv_oai import OaiError, parse_oai_page
from paperwire.ingest.xmltree import XmlSyntaxError
from paperwire.models import ParsedRecord, RecordError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
FORMATS = DATA / "arxiv-formats"
LIST_RECORDS = FORMATS / "oai-pmh-arXivRaw-ListRecords.xml"
GET_RECORD = FORMATS / "oai-pmh-arXivRaw-GetRecord.xml"


def parsed(records: list[ParsedRecord | RecordError]) -> list[ParsedRecord]:
    assert all(isinstance(r, ParsedRecord) for r in records), [str(r) for r in records]
    return [r for r in records if isinstance(r, ParsedRecord)]


def test_list_records_page() -> None:
    page = parse_oai_page(LIST_RECORDS.read_bytes(), str(LIST_RECORDS))
    records = parsed(page.records)
    assert len(records) == 387
    assert len({r.paper.id for r in records}) == 387
    assert page.resumption_token == "1403493|1001"
    assert page.complete_list_size == 1440
    assert records[0].line == 7
    assert records[1].line == 70
    assert records[-1].line == 18269
    for record in records:
        paper = record.paper
        assert paper.version is not None
        assert paper.version >= 1
        assert paper.submitted_at is not None
        assert paper.updated_at is not None
        assert paper.submitted_at <= paper.updated_at
        assert "\n" not in paper.title
        assert "  " not in paper.title
        # The XML indentation (24 spaces) is not a paragraph break.
        assert "\n" not in paper.abstract, paper.id
    assert sum(1 for r in records if r.paper.doi) == 163
    assert sum(1 for r in records if r.paper.journal_ref) == 157


def test_list_records_first_record_fields() -> None:
    paper = parsed(parse_oai_page(LIST_RECORDS.read_bytes(), "p").records)[0].paper
    assert paper.id == "0803.4354"
    assert paper.source == "arxiv"
    assert paper.title == (
        "A O(n^8) X O(n^7) Linear Programming Model of the Traveling Salesman Problem"
    )
    assert paper.authors == ["Moustapha Diaby"]
    assert paper.categories == ["cs.DM"]
    assert paper.version == 6
    assert paper.submitted_at == datetime(2008, 3, 30, 23, 26, 50, tzinfo=UTC)
    assert paper.updated_at == datetime(2016, 10, 20, 16, 58, 38, tzinfo=UTC)
    assert paper.comments is not None
    assert paper.comments.startswith(
        "Theorem 25 and Corollary 26 are incorrect. The modeling needs"
    )
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_list_records_latex_author_string() -> None:
    records = parsed(parse_oai_page(LIST_RECORDS.read_bytes(), "p").records)
    paper = next(r.paper for r in records if r.paper.id == "1210.2946")
    # "... E. Janik, S{\l}upi\'nski, P.\n   Kossacki, A. Golnik, and W. Pacuski"
    assert paper.authors == [
        "J. Kobak",
        "J.-G. Rousset",
        "R. Rudniewski",
        "E. Janik",
        "Słupiński",
        "P. Kossacki",
        "A. Golnik",
        "W. Pacuski",
    ]
    assert paper.categories == ["cond-mat.mes-hall"]


def test_get_record() -> None:
    page = parse_oai_page(GET_RECORD.read_bytes(), str(GET_RECORD))
    [record] = parsed(page.records)
    assert page.resumption_token is None
    assert page.complete_list_size is None
    assert record.line == 6
    paper = record.paper
    assert paper.id == "0804.2273"
    assert paper.title == "Object Re-Use & Exchange: A Resource-Centric Approach"
    assert paper.authors == [
        "Carl Lagoze",
        "Herbert Van de Sompel",
        "Michael L. Nelson",
        "Simeon Warner",
        "Robert Sanderson",
        "Pete Johnston",
    ]
    assert paper.categories == ["cs.DL", "cs.NI"]
    assert paper.version == 1
    assert paper.submitted_at == paper.updated_at == datetime(2008, 4, 14, 21, 2, tzinfo=UTC)
    assert paper.license == "http://creativecommons.org/licenses/by/3.0/"
    assert paper.abstract.startswith(
        "The OAI Object Reuse and Exchange (OAI-ORE) framework recasts"
    )
    assert paper.abstract.endswith("improved interoperability and reuse of digital objects.")


# --- synthetic pages ---------------------------------------------------------------

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
    "<responseDate>2024-01-01T00:00:00Z</responseDate>\n"
)


def record(arxiv_id: str = "2401.00001", title: str = "<title>T</title>") -> str:
    return (
        "<record>\n"
        f"<header><identifier>oai:arXiv.org:{arxiv_id}</identifier></header>\n"
        '<metadata><arXivRaw xmlns="http://arxiv.org/OAI/arXivRaw/">\n'
        f"<id>{arxiv_id}</id>\n"
        '<version version="v1"><date>Mon, 1 Jan 2024 10:00:00 GMT</date></version>\n'
        '<version version="v2"><date>Tue, 2 Jan 2024 10:00:00 GMT</date></version>\n'
        f"{title}<authors>A. One and B. Two</authors><categories>cs.CL cs.AI</categories>\n"
        "<abstract>An abstract.</abstract>\n"
        "</arXivRaw></metadata>\n"
        "</record>\n"
    )


def page(body: str) -> bytes:
    return (HEAD + "<ListRecords>\n" + body + "</ListRecords>\n</OAI-PMH>\n").encode()


def test_bad_record_is_reported_at_its_line_and_deleted_ones_skipped() -> None:
    deleted = (
        '<record>\n<header status="deleted"><identifier>oai:arXiv.org:2401.00003'
        "</identifier></header>\n</record>\n"
    )
    body = record() + record("2401.00002", title="") + deleted + record("2401.00004")
    result = parse_oai_page(page(body) + b"", "p.xml")
    assert [type(r) for r in result.records] == [ParsedRecord, RecordError, ParsedRecord]
    error = result.records[1]
    assert isinstance(error, RecordError)
    assert (error.path, error.line, error.message) == ("p.xml", 15, "title: missing")
    good = result.records[0]
    assert isinstance(good, ParsedRecord)
    assert good.paper.version == 2
    assert good.paper.categories == ["cs.CL", "cs.AI"]
    assert good.paper.authors == ["A. One", "B. Two"]
    assert result.resumption_token is None


def test_empty_resumption_token_ends_the_harvest() -> None:
    body = record() + '<resumptionToken completeListSize="1" cursor="0"/>\n'
    result = parse_oai_page(page(body), "p.xml")
    assert result.resumption_token is None
    assert result.complete_list_size == 1


def test_no_records_match_is_an_empty_page() -> None:
    data = (HEAD + '<error code="noRecordsMatch">nothing</error>\n</OAI-PMH>').encode()
    result = parse_oai_page(data, "p.xml")
    assert result.records == []
    assert result.resumption_token is None


def test_other_oai_errors_raise() -> None:
    data = (HEAD + '<error code="badResumptionToken">expired token</error>\n</OAI-PMH>').encode()
    with pytest.raises(OaiError, match="badResumptionToken: expired token") as caught:
        parse_oai_page(data, "p.xml")
    assert caught.value.code == "badResumptionToken"
    assert caught.value.line == 4


def test_not_xml_raises_with_the_line() -> None:
    with pytest.raises(XmlSyntaxError) as caught:
        parse_oai_page(page(record()).replace(b"</id>", b"</di>"), "p.xml")
    assert caught.value.line == 8


def test_entity_declarations_are_refused() -> None:
    data = (
        b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>\n'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">&a;</OAI-PMH>'
    )
    with pytest.raises(XmlSyntaxError, match="entity"):
        parse_oai_page(data, "p.xml")


def test_other_xml_is_not_oai() -> None:
    with pytest.raises(OaiError, match="not OAI-PMH"):
        parse_oai_page(b"<html/>", "p.xml")
