"""The documented generic JSON-lines format: valid records and every validation rule."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from paperwire.ingest.generic import parse_generic_lines
from paperwire.models import ParsedRecord, RecordError


def line(**fields: object) -> bytes:
    base: dict[str, object] = {
        "id": "acl:2024.acl-long.123",
        "title": "A Paper\n  With a Wrapped Title",
        "abstract": "We show\nthat it works.\n\nSecond paragraph.",
        "authors": ["Ada Lovelace", "Alan Turing"],
        "published": "2024-08-12",
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def parse_one(data: bytes) -> ParsedRecord | RecordError:
    [result] = parse_generic_lines([data], "papers.jsonl")
    return result


def test_minimal_record() -> None:
    result = parse_one(line())
    assert isinstance(result, ParsedRecord)
    paper = result.paper
    assert paper.id == "acl:2024.acl-long.123"
    assert paper.source == "generic"
    assert paper.title == "A Paper With a Wrapped Title"
    assert paper.abstract == "We show that it works.\n\nSecond paragraph."
    assert paper.authors == ["Ada Lovelace", "Alan Turing"]
    assert paper.submitted_at == datetime(2024, 8, 12, tzinfo=UTC)
    assert paper.updated_at is None
    assert paper.version is None
    assert paper.categories == []
    assert paper.url is None
    assert paper.venue is None
    assert result.feed is None
    assert result.line == 1


def test_all_optional_fields() -> None:
    result = parse_one(
        line(
            source="acl",
            categories=["cs.CL", "cs.AI"],
            url="https://aclanthology.org/2024.acl-long.123/",
            venue="ACL  2024",
            authors="A. One, B. Two and C. Three (Somewhere)",
            published="2024-08-12T09:30:00+02:00",
            updated="2024-09-01",
            ignored_field={"anything": 1},
        )
    )
    assert isinstance(result, ParsedRecord)
    paper = result.paper
    assert paper.source == "acl"
    assert paper.categories == ["cs.CL", "cs.AI"]
    assert paper.url == "https://aclanthology.org/2024.acl-long.123/"
    assert paper.venue == "ACL 2024"
    assert paper.authors == ["A. One", "B. Two", "C. Three"]
    assert paper.submitted_at == datetime(2024, 8, 12, 7, 30, tzinfo=UTC)
    assert paper.updated_at == datetime(2024, 9, 1, tzinfo=UTC)


def test_naive_datetime_is_utc() -> None:
    result = parse_one(line(published="2024-08-12T09:30:00"))
    assert isinstance(result, ParsedRecord)
    assert result.paper.submitted_at == datetime(2024, 8, 12, 9, 30, tzinfo=UTC)


def test_arxiv_source_normalizes_the_id() -> None:
    result = parse_one(line(source="arxiv", id="arXiv:2401.00001v2"))
    assert isinstance(result, ParsedRecord)
    assert (result.paper.id, result.paper.version, result.paper.source) == (
        "2401.00001",
        2,
        "arxiv",
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"id": ...}, "id: missing"),
        ({"id": "has space"}, "id: must be"),
        ({"id": "x" * 101}, "id: must be"),
        ({"id": 12}, "id: expected a string, got int"),
        ({"id": "2401.00001"}, "is an arXiv id"),
        ({"source": "arxiv", "id": "nope"}, "not an arXiv id"),
        ({"title": ...}, "title: missing"),
        ({"title": "  "}, "title: empty"),
        ({"abstract": None}, "abstract: missing"),
        ({"authors": ...}, "authors: missing"),
        ({"authors": []}, "authors: no names"),
        ({"authors": ["A", 1]}, "authors: expected strings"),
        ({"authors": {"name": "A"}}, "authors: expected a list"),
        ({"published": ...}, "published: missing"),
        ({"published": "12/08/2024"}, "published: not an ISO 8601 date"),
        ({"published": "2024-13-01"}, "published: not an ISO 8601 date"),
        ({"updated": "last week"}, "updated: not an ISO 8601 date"),
        ({"updated": 2024}, "updated: expected a string"),
        ({"categories": "cs.CL"}, "categories: expected a list"),
        ({"url": "ftp://x.org/p"}, "url: must start with http"),
        ({"source": "Bad Source"}, "source: must match"),
        ({"source": 3}, "source: expected a string"),
        ({"venue": ["x"]}, "venue: expected a string"),
    ],
)
def test_invalid_records_name_the_field(fields: dict[str, object], message: str) -> None:
    results = list(parse_generic_lines([line(), line(**fields), b"  ", line()], "papers.jsonl"))
    assert [type(r) for r in results] == [ParsedRecord, RecordError, ParsedRecord]
    error = results[1]
    assert isinstance(error, RecordError)
    assert (error.path, error.line) == ("papers.jsonl", 2)
    assert message in error.message
    assert results[2].line == 4
