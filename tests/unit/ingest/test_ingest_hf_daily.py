"""Hugging Face daily-papers responses: the real archive, its three shapes, broken copies."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from paperwire.ingest.hf_daily import parse_hf_daily
from paperwire.models import Link, LinkKind, OrganizationRecord, ParsedRecord, RecordError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
HF = DATA / "hf-daily-papers"


def parse(path: Path) -> list[ParsedRecord | RecordError]:
    return list(parse_hf_daily(path.read_bytes(), str(path)))


def records(results: list[ParsedRecord | RecordError]) -> list[ParsedRecord]:
    return [r for r in results if isinstance(r, ParsedRecord)]


def errors(results: list[ParsedRecord | RecordError]) -> list[RecordError]:
    return [r for r in results if isinstance(r, RecordError)]


@pytest.fixture(scope="module")
def archive() -> dict[str, list[ParsedRecord | RecordError]]:
    files = sorted(HF.glob("*.json"))
    assert len(files) == 580
    return {f.name: parse(f) for f in files}


def test_whole_archive_counts(archive: dict[str, list[ParsedRecord | RecordError]]) -> None:
    everything = [r for results in archive.values() for r in results]
    assert errors(everything) == []
    parsed = records(everything)
    assert len(parsed) == 9881
    assert len({r.paper.id for r in parsed}) == 9877
    # Every record has its feed entry, dated by its file, positions 0..n-1 in order.
    for name, results in archive.items():
        assert [r.feed.position for r in records(results) if r.feed] == list(range(len(results)))
        assert {r.feed.feed_date for r in records(results) if r.feed} == {
            date.fromisoformat(name[:10])
        }


def test_every_record_is_well_formed(archive: dict[str, list[ParsedRecord | RecordError]]) -> None:
    for results in archive.values():
        for record in records(results):
            paper = record.paper
            assert paper.source == "arxiv"
            assert paper.title
            assert "\n" not in paper.title
            assert "  " not in paper.title
            assert paper.abstract == paper.abstract.strip()
            assert paper.authors
            assert all(name == name.strip() for name in paper.authors)
            assert paper.submitted_at is not None
            assert paper.submitted_at.tzinfo is UTC
            assert record.line >= 2


def test_list_of_items_shape() -> None:
    results = parse(HF / "2025-10-15.json")
    assert errors(results) == []
    first, second = records(results)[:2]
    assert first.line == 2  # the "{" of the first item
    assert second.line == 100
    paper = first.paper
    assert paper.id == "2510.12586"
    assert paper.title == (
        "Advancing End-to-End Pixel Space Generative Modeling via Self-supervised Pre-training"
    )
    assert paper.abstract.startswith(
        "Pixel-space generative models are often more difficult to train and generally "
        "underperform compared"
    )
    assert paper.authors == [
        "Jiachen Lei",
        "Keli Liu",
        "Julius Berner",
        "Haiming Yu",
        "Hongkai Zheng",
        "Jiahong Wu",
        "Xiangxiang Chu",
    ]
    assert paper.submitted_at == datetime(2025, 10, 14, 14, 41, 16, tzinfo=UTC)
    assert paper.thumbnail_url == (
        "https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2510.12586.png"
    )
    assert paper.links == [Link(LinkKind.CODE, "https://github.com/AMAP-ML/EPG")]
    feed = first.feed
    assert feed is not None
    assert (feed.paper_id, feed.feed_date, feed.position) == ("2510.12586", date(2025, 10, 15), 0)
    assert (feed.upvotes, feed.num_comments) == (67, 2)
    assert (feed.submitted_by, feed.submitted_by_name) == ("xiaochonglinghu", "xiaochonglinghu")
    assert feed.organization == OrganizationRecord(
        slug="GD-ML",
        name="AMAP-ML",
        avatar_url="https://cdn-uploads.huggingface.co/production/uploads/"
        "67d116c47be76de1a40873ca/s5ukAx9E36ZZIKvbpBRi4.png",
    )
    assert second.feed is not None
    assert (second.feed.submitted_by, second.feed.submitted_by_name) == ("Everything-is-Ok", "zez")
    assert records(results)[-1].line == 2563


def test_repr_strings_shape() -> None:
    results = parse(HF / "2024-12-11.json")
    assert errors(results) == []
    parsed = records(results)
    assert len(parsed) == 26
    # One item per line: the string on line 2 is item 0.
    assert [r.line for r in parsed] == list(range(2, 28))
    first = parsed[0]
    assert first.paper.id == "2412.07730"
    assert first.paper.title == "STIV: Scalable Text and Image Conditioned Video Generation"
    assert len(first.paper.authors) == 17
    assert first.paper.authors[3] == "Jiasen Lu"
    assert first.feed is not None
    assert (first.feed.upvotes, first.feed.num_comments) == (54, 2)
    assert (first.feed.submitted_by, first.feed.submitted_by_name) == ("yyf86", "Alex Yang")
    # "Multi-Modal LLMs and Diffusion Models for\n  Customized": title continuation lines.
    assert parsed[2].paper.title == (
        "DiffSensei: Bridging Multi-Modal LLMs and Diffusion Models for Customized Manga Generation"
    )


def test_object_shape_takes_its_date() -> None:
    results = parse(HF / "2025-01-10.json")
    assert errors(results) == []
    parsed = records(results)
    assert len(parsed) == 9  # the object's "count"
    assert [r.line for r in parsed] == list(range(6, 15))
    assert parsed[0].paper.id == "2501.05441"
    assert parsed[0].paper.title == "The GAN is dead; long live the GAN! A Modern GAN Baseline"
    assert {r.feed.feed_date for r in parsed if r.feed} == {date(2025, 1, 10)}
    # The date comes from the object, not the name.
    renamed = list(parse_hf_daily((HF / "2025-01-10.json").read_bytes(), "feed.json"))
    assert {r.feed.feed_date for r in records(renamed) if r.feed} == {date(2025, 1, 10)}


def test_feed_date_falls_back_to_the_items_publication() -> None:
    results = list(parse_hf_daily((HF / "2024-05-27.json").read_bytes(), "no-date.json"))
    # The outer publishedAt is when the paper entered the list.
    dates = {r.feed.feed_date for r in records(results) if r.feed}
    assert dates
    assert all(date(2024, 5, 24) <= d <= date(2024, 5, 27) for d in dates)
    # An explicit date (an API client knows which day it asked for) wins over all.
    data = (HF / "2025-01-10.json").read_bytes()
    explicit = records(list(parse_hf_daily(data, "2025-01-10.json", feed_date=date(2020, 1, 1))))
    assert {r.feed.feed_date for r in explicit if r.feed} == {date(2020, 1, 1)}


def test_schema_growth(archive: dict[str, list[ParsedRecord | RecordError]]) -> None:
    by_month: Counter[tuple[str, str]] = Counter()
    for name, results in archive.items():
        for record in records(results):
            month = name[:7]
            for link in record.paper.links:
                by_month[(link.kind.value, month)] += 1
            if record.feed and record.feed.organization:
                by_month[("org", month)] += 1
    code_months = {m for kind, m in by_month if kind == "code"}
    org_months = {m for kind, m in by_month if kind == "org"}
    assert min(code_months) == "2025-03"
    assert min({m for kind, m in by_month if kind == "project"}) == "2025-03"
    assert min(org_months) == "2025-10"
    assert sum(n for (kind, _), n in by_month.items() if kind == "code") == 3692
    assert sum(n for (kind, _), n in by_month.items() if kind == "org") == 2912


def test_arxiv_paragraphs_survive(archive: dict[str, list[ParsedRecord | RecordError]]) -> None:
    paper = next(r.paper for r in records(archive["2024-05-28.json"]) if r.paper.id == "2405.17399")
    first, second = paper.abstract.split("\n\n")
    assert first.endswith("recurrent layers to improve performance even further.")
    assert second.startswith("With positions resolved, we can study the logical extrapolation")


# --- broken copies of real files ---------------------------------------------------


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _line_of(lines: list[str], needle: str, start: int = 0) -> int:
    return next(i for i, line in enumerate(lines) if i >= start and needle in line)


def test_json_syntax_error_costs_one_item(tmp_path: Path) -> None:
    lines = (HF / "2025-10-15.json").read_text(encoding="utf-8").splitlines(keepends=True)
    index = _line_of(lines, '"name": "Enze Zhang"')  # inside item 1 (line 100)
    lines[index] = '          "name": Enze Zhang,\n'
    results = parse(_write(tmp_path, "2025-10-15.json", "".join(lines)))
    assert len(records(results)) == 25
    [error] = errors(results)
    assert error.line == index + 1
    assert error.path.endswith("2025-10-15.json")
    assert "line 100" in error.message
    assert "2510.09116" not in {r.paper.id for r in records(results)}
    # The items after the broken one keep their positions and lines.
    third = records(results)[1]
    assert third.feed is not None
    assert third.feed.position == 2
    assert third.line == records(parse(HF / "2025-10-15.json"))[2].line


def test_missing_comma_between_items(tmp_path: Path) -> None:
    text = (HF / "2025-10-15.json").read_text(encoding="utf-8")
    broken = text.replace(
        '    "isAuthorParticipating": true\n  },\n  {',
        '    "isAuthorParticipating": true\n  }\n  {',
        1,
    )
    assert broken != text
    results = parse(_write(tmp_path, "2025-10-15.json", broken))
    assert len(records(results)) == 25
    [error] = errors(results)
    assert error.line == 100  # where the second item starts without a comma before it


def test_semantic_errors_cost_one_item_each(tmp_path: Path) -> None:
    lines = (HF / "2025-10-15.json").read_text(encoding="utf-8").splitlines(keepends=True)
    bad_id = _line_of(lines, '"id": "2510.09116"')
    lines[bad_id] = lines[bad_id].replace("2510.09116", "not-an-id")
    missing_id = _line_of(lines, '"id": "2510.12586"')
    del lines[missing_id]
    third_item = _line_of(lines, '"id": ', start=bad_id + 1)
    upvotes = _line_of(lines, '"upvotes": ', start=third_item)
    lines[upvotes] = '      "upvotes": "many",\n'
    results = parse(_write(tmp_path, "2025-10-15.json", "".join(lines)))
    errs = errors(results)
    assert len(records(results)) == 23
    assert len(errs) == 3
    assert errs[0].line == 2
    assert errs[0].message == "paper.id: missing"
    assert errs[1].line == 99
    assert "not-an-id" in errs[1].message
    # third_item is the 0-based index of the item's "id" line; its "{" is two lines up.
    assert errs[2].line == third_item + 1 - 2
    assert errs[2].message == "paper.upvotes: expected an integer, got str"


def test_bad_repr_string_costs_one_item(tmp_path: Path) -> None:
    lines = (HF / "2024-12-11.json").read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = lines[2].replace("{'paper': {", "{'paper': {oops ", 1)  # file line 3
    results = parse(_write(tmp_path, "2024-12-11.json", "".join(lines)))
    assert len(records(results)) == 25
    [error] = errors(results)
    assert error.line == 3
    assert "Python literal" in error.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("this is not json", 1),
        ('\n\n{"status": "success", "date": "2025-01-10", "data": [}', 3),
        ("42", 1),
        ('{"status": "error"}', 1),
        ("[" * 100_000, 1),  # hostile: nested too deep for the decoder
        ("[" + "1" * 5000 + "]", 1),  # hostile: an integer over Python's digit limit
    ],
    ids=["text", "syntax", "number", "no-data", "deep", "big-int"],
)
def test_not_a_daily_list_is_one_error(tmp_path: Path, text: str, line: int) -> None:
    [error] = parse(_write(tmp_path, "2025-01-10.json", text))
    assert isinstance(error, RecordError)
    assert error.line == line


def test_truncated_file_keeps_the_complete_items(tmp_path: Path) -> None:
    text = (HF / "2025-10-15.json").read_text(encoding="utf-8")
    cut = text[: text.index('"id": "2510.09116"')]
    results = parse(_write(tmp_path, "2025-10-15.json", cut))
    assert [r.paper.id for r in records(results)] == ["2510.12586"]
    assert len(errors(results)) == 1


def test_empty_list_and_not_utf8(tmp_path: Path) -> None:
    assert parse(_write(tmp_path, "2025-01-01.json", "[]\n")) == []
    path = tmp_path / "2025-01-02.json"
    path.write_bytes(b'[\n{"paper": "\xff"}]')
    [error] = parse(path)
    assert isinstance(error, RecordError)
    assert error.line == 2
    assert "UTF-8" in error.message


def test_nul_in_any_string_becomes_the_replacement_character(tmp_path: Path) -> None:
    # JSON may carry \u0000, which PostgreSQL's text refuses: both backends store U+FFFD.
    day = json.loads((HF / "2025-10-15.json").read_text())[:1]
    day[0]["submittedBy"]["fullname"] = "x\u0000y"
    day[0]["paper"]["title"] = "A\u0000title"
    day[0]["paper"]["authors"][0]["name"] = "Ada\u0000"
    path = tmp_path / "2025-10-15.json"
    path.write_text(json.dumps(day))
    (record,) = records(parse(path))
    assert record.feed is not None
    assert record.feed.submitted_by_name == "x\ufffdy"
    assert record.paper.title == "A\ufffdtitle"
    assert record.paper.authors[0] == "Ada\ufffd"
