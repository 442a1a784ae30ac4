"""The Kaggle/Cornell arXiv snapshot (JSON lines): the real head of the file, bad lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from paperwire.ingest.kaggle import parse_kaggle_lines
from paperwire.models import ParsedRecord, RecordError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
HEAD = DATA / "arxiv-formats" / "kaggle-snapshot-head.jsonl"


@pytest.fixture(scope="module")
def parsed() -> list[ParsedRecord]:
    with HEAD.open("rb") as stream:
        results = list(parse_kaggle_lines(stream, str(HEAD)))
    assert all(isinstance(r, ParsedRecord) for r in results), [str(r) for r in results]
    return [r for r in results if isinstance(r, ParsedRecord)]


def test_all_rows_parse(parsed: list[ParsedRecord]) -> None:
    assert len(parsed) == 200
    assert [r.line for r in parsed] == list(range(1, 201))
    assert parsed[0].paper.id == "0704.0001"
    assert parsed[-1].paper.id == "0704.0200"
    rows = [json.loads(line) for line in HEAD.read_text(encoding="utf-8").splitlines()]
    for row, record in zip(rows, parsed, strict=True):
        paper = record.paper
        assert paper.version == len(row["versions"])
        assert paper.categories == row["categories"].split()
        assert paper.submitted_at is not None
        assert paper.submitted_at.tzinfo is UTC
        assert paper.updated_at is not None
        assert paper.updated_at >= paper.submitted_at
        assert paper.authors
        assert not any("\\" in name or "(" in name for name in paper.authors)
        assert "\n" not in paper.title


def test_first_row_fields(parsed: list[ParsedRecord]) -> None:
    paper = parsed[0].paper
    assert paper.source == "arxiv"
    assert paper.title == (
        "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies"
    )
    assert paper.authors == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
    assert paper.categories == ["hep-ph"]
    assert paper.version == 2
    assert paper.submitted_at == datetime(2007, 4, 2, 19, 18, 42, tzinfo=UTC)
    # v2 is from 2007-07-24, but the metadata was updated on 2008-11-26.
    assert paper.updated_at == datetime(2008, 11, 26, tzinfo=UTC)
    assert paper.comments == "37 pages, 15 figures; published version"
    assert paper.journal_ref == "Phys.Rev.D76:013009,2007"
    assert paper.doi == "10.1103/PhysRevD.76.013009"
    assert paper.license is None
    assert paper.abstract.startswith("A fully differential calculation in perturbative quantum")
    assert paper.abstract.endswith("can be obtained with judicious selection of events.")


def test_second_row_fields(parsed: list[ParsedRecord]) -> None:
    paper = parsed[1].paper
    assert paper.id == "0704.0002"
    assert paper.authors == ["Ileana Streinu", "Louis Theran"]
    assert paper.categories == ["math.CO", "cs.CG"]
    assert paper.updated_at == datetime(2008, 12, 13, 17, 26, tzinfo=UTC)
    assert paper.license == "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"


def test_affiliations_and_accents(parsed: list[ParsedRecord]) -> None:
    by_id = {r.paper.id: r.paper for r in parsed}
    assert by_id["0704.0025"].authors == ["A. S. Mishchenko", "N. Nagaosa"]
    names = {name for paper in by_id.values() for name in paper.authors}
    assert {"Rastislav Šrámek", "Broňa Brejová", "Tomáš Vinař", "Mikkel Øbro"} <= names
    assert {"Franz Gähler", "Thomas Müller", "R. Tomàs", "Péter E. Frenkel"} <= names


def _line(**fields: object) -> bytes:
    base: dict[str, object] = {
        "id": "0704.0001",
        "authors": "A. One and B. Two",
        "title": "T",
        "abstract": "A.",
        "categories": "hep-ph",
        "versions": [{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}],
        "update_date": "2007-04-03",
    }
    base.update(fields)
    return orjson.dumps({k: v for k, v in base.items() if v is not ...})


def test_minimal_line() -> None:
    [result] = parse_kaggle_lines([_line(versions=..., update_date=...)], "k.jsonl")
    assert isinstance(result, ParsedRecord)
    assert result.paper.version is None
    assert result.paper.submitted_at is None
    assert result.paper.authors == ["A. One", "B. Two"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (_line(authors=""), "authors: empty"),
        (_line(authors="(only an affiliation)"), "authors: no names"),
        (_line(versions="v1"), "versions: expected a list"),
        (_line(versions=[{"version": "1", "created": "x"}]), "not a version like v1"),
        (_line(versions=[{"version": "v1", "created": "yesterday"}]), "not an RFC 2822 date"),
        (_line(update_date="soon"), "update_date: not a date"),
        (_line(id="0704.1"), "not an arXiv id"),
    ],
)
def test_bad_lines(line: bytes, message: str) -> None:
    results = list(parse_kaggle_lines([_line(), line, _line()], "k.jsonl"))
    assert [type(r) for r in results] == [ParsedRecord, RecordError, ParsedRecord]
    error = results[1]
    assert isinstance(error, RecordError)
    assert (error.path, error.line) == ("k.jsonl", 2)
    assert message in error.message
