"""Daily arXiv listings (gzipped JSON lines): the whole real corpus and single lines."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import orjson
import pytest

from paperwire.ingest.arxiv_listing import parse_listing_lines
from paperwire.models import ParsedRecord, RecordError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
LISTINGS = DATA / "arxiv-daily-listings"
FIRST = LISTINGS / "2025-03-18.jsonl.gz"


def parse_file(path: Path) -> list[ParsedRecord | RecordError]:
    with gzip.open(path, "rb") as stream:
        return list(parse_listing_lines(stream, str(path)))


def test_whole_corpus_counts() -> None:
    files = sorted(LISTINGS.glob("*.jsonl.gz"))
    assert len(files) == 410
    rows = 0
    ids: set[str] = set()
    for path in files:
        day = date.fromisoformat(path.name[:10])
        for result in parse_file(path):
            assert isinstance(result, ParsedRecord), str(result)
            rows += 1
            ids.add(result.paper.id)
            assert result.paper.submitted_at == datetime(day.year, day.month, day.day, tzinfo=UTC)
    assert rows == 120405
    assert len(ids) == 74728


def test_first_file_fields() -> None:
    results = parse_file(FIRST)
    assert len(results) == 465
    first = results[0]
    assert isinstance(first, ParsedRecord)
    assert first.line == 1
    assert first.feed is None
    paper = first.paper
    assert paper.id == "2503.11731"
    assert paper.source == "arxiv"
    assert paper.version is None
    assert paper.title == (
        "Industrial-Grade Sensor Simulation via Gaussian Splatting: A Modular Framework for "
        "Scalable Editing and Full-Stack Validation"
    )
    assert paper.authors[0] == "Xianming Zeng"
    assert len(paper.authors) == 16
    assert paper.categories == ["cs.CV", "cs.RO"]
    assert paper.comments is None
    assert paper.submitted_at == paper.updated_at == datetime(2025, 3, 18, tzinfo=UTC)
    assert "\n" not in paper.abstract
    assert paper.abstract.startswith(
        "Sensor simulation is pivotal for scalable validation of autonomous driving systems, yet"
    )
    second = results[1]
    assert isinstance(second, ParsedRecord)
    assert second.paper.authors[0] == "Moreno D'Incà"
    assert second.paper.comments == "Work in progress"


def test_wrapped_comment_and_paragraphs() -> None:
    results = parse_file(FIRST)
    crop = results[9]
    assert isinstance(crop, ParsedRecord)
    assert crop.line == 10
    assert crop.paper.id == "2503.11807"
    assert crop.paper.comments == (
        "Accepted In IEEE India Geoscience and Remote Sensing Symposium (InGARSS) 2024"
    )
    assert crop.paper.categories == ["cs.CV", "cs.AI", "cs.LG"]
    motion = results[34]
    assert isinstance(motion, ParsedRecord)
    assert motion.paper.id == "2503.12026"
    first, second = motion.paper.abstract.split("\n\n")
    assert first.endswith("limiting their effectiveness in self-supervised settings.")
    assert second.startswith("To this end, we explore an efficient self-supervised Video")


def _line(**fields: object) -> bytes:
    base: dict[str, object] = {
        "id": "2503.11731v2",
        "pdf": "https://arxiv.org/pdf/2503.11731v2",
        "abs": "https://arxiv.org/abs/2503.11731v2",
        "authors": ["A. Author", "B. Author"],
        "title": "A title",
        "categories": ["cs.CV"],
        "comment": None,
        "summary": "An abstract.",
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def test_version_from_id_and_explicit_date() -> None:
    [result] = parse_listing_lines([_line()], "listing.jsonl", listing_date=date(2026, 1, 2))
    assert isinstance(result, ParsedRecord)
    assert (result.paper.id, result.paper.version) == ("2503.11731", 2)
    assert result.paper.updated_at == datetime(2026, 1, 2, tzinfo=UTC)


def test_no_date_in_the_name_means_no_dates() -> None:
    [result] = parse_listing_lines([_line()], "listing.jsonl")
    assert isinstance(result, ParsedRecord)
    assert result.paper.submitted_at is None
    assert result.paper.updated_at is None


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (_line(id=...), "id: missing"),
        (_line(id="2503.1173"), "5-digit"),
        (_line(title=""), "title: empty"),
        (_line(title=7), "title: expected a string, got int"),
        (_line(summary=...), "summary: missing"),
        (_line(authors="A, B"), "authors: expected a list, got str"),
        (_line(authors=["A", 3]), "authors: expected strings, got int"),
        (_line(comment=["x"]), "comment: expected a string, got list"),
    ],
)
def test_bad_lines(line: bytes, message: str) -> None:
    good = _line()
    results = list(parse_listing_lines([good, b"", line, good], "2025-03-18.jsonl"))
    assert [type(r) for r in results] == [ParsedRecord, RecordError, ParsedRecord]
    error = results[1]
    assert isinstance(error, RecordError)
    assert error.line == 3
    assert message in error.message
    assert results[2].line == 4
