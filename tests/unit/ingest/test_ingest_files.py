"""Finding input files, detecting formats from content, reading them (gzip included)."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson
import pytest

from paperwire.ingest.files import (
    FORMATS,
    UnknownFormat,
    detect_format,
    iter_input_files,
    read_records,
)
from paperwire.models import ParsedRecord, RecordError

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data"
HF = DATA / "hf-daily-papers"
LISTINGS = DATA / "arxiv-daily-listings"
SAMPLES = DATA / "arxiv-formats"

REAL_SAMPLES = [
    (HF / "2025-10-15.json", "hf-daily"),  # a list of items
    (HF / "2024-12-11.json", "hf-daily"),  # a list of repr strings
    (HF / "2025-01-10.json", "hf-daily"),  # the {"status", "date", "data"} object
    (LISTINGS / "2025-03-18.jsonl.gz", "arxiv-listing"),
    (SAMPLES / "kaggle-snapshot-head.jsonl", "kaggle"),
    (SAMPLES / "oai-pmh-arXivRaw-ListRecords.xml", "arxiv-oai"),
    (SAMPLES / "oai-pmh-arXivRaw-GetRecord.xml", "arxiv-oai"),
    (SAMPLES / "atom-api-query.xml", "arxiv-atom"),
]

GENERIC_LINE = orjson.dumps(
    {
        "id": "x:1",
        "title": "T",
        "abstract": "A.",
        "authors": ["A. One"],
        "published": "2024-01-01",
    }
)


def split(
    results: list[ParsedRecord | RecordError],
) -> tuple[list[ParsedRecord], list[RecordError]]:
    return (
        [r for r in results if isinstance(r, ParsedRecord)],
        [r for r in results if isinstance(r, RecordError)],
    )


# --- finding files -----------------------------------------------------------------


def test_walking_the_real_hf_folder_skips_the_license() -> None:
    files = list(iter_input_files([HF]))
    assert len(files) == 580
    assert files == sorted(files)
    assert all(f.suffix == ".json" for f in files)
    assert (HF / "LICENSE.upstream").exists()


def test_walking_a_tree(tmp_path: Path) -> None:
    for name in [
        "b/2.jsonl.gz",
        "b/1.xml",
        "a.json",
        "c/d/deep.JSONL",
        "README.md",
        "notes.txt",
        "data.json.bak",
        ".hidden.json",
        ".git/config.json",
    ]:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("[]")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_input_files([tmp_path])]
    assert found == ["a.json", "b/1.xml", "b/2.jsonl.gz", "c/d/deep.JSONL"]
    # A file named directly is taken whatever its name.
    assert list(iter_input_files([tmp_path / "notes.txt", tmp_path / "a.json"])) == [
        tmp_path / "notes.txt",
        tmp_path / "a.json",
    ]
    with pytest.raises(FileNotFoundError, match="missing"):
        list(iter_input_files([tmp_path / "missing"]))


# --- detecting formats -------------------------------------------------------------


def test_formats_for_the_cli() -> None:
    assert set(FORMATS) == {
        "hf-daily",
        "arxiv-listing",
        "kaggle",
        "arxiv-oai",
        "arxiv-atom",
        "generic",
    }


@pytest.mark.parametrize(("path", "fmt"), REAL_SAMPLES, ids=lambda v: getattr(v, "name", v))
def test_detect_real_samples(path: Path, fmt: str, tmp_path: Path) -> None:
    raw = path.read_bytes()
    assert detect_format(path, raw[:65536]) == fmt
    # The same content gzipped (or, for the listing, gunzipped) is detected the same way.
    other = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else gzip.compress(raw)
    assert detect_format(tmp_path / "renamed.bin", other[:65536]) == fmt


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (GENERIC_LINE + b"\n", "generic"),
        (b"\xef\xbb\xbf\n\n" + GENERIC_LINE, "generic"),
        (b'{"status": "success", "date": "2025-01-10", "count": 0, "data": []}', "hf-daily"),
        (b"  []", "hf-daily"),
        # A first line longer than the head: keys are still found.
        (b'{"id": "0704.0001", "submitter": "X", "versions": [{"v": "' + b"x" * 100, "kaggle"),
    ],
)
def test_detect_synthetic(head: bytes, fmt: str) -> None:
    assert detect_format(Path("x"), head) == fmt


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"   \n",
        b"hello",
        b'{"name": "not a paper"}\n',
        b"<html><body/></html>",
        b"\x1f\x8bnot gzip",
    ],
)
def test_unknown_formats_name_the_file(head: bytes) -> None:
    with pytest.raises(UnknownFormat, match=r"mystery\.json"):
        detect_format(Path("/data/mystery.json"), head)


# --- reading -----------------------------------------------------------------------


def test_read_every_real_sample() -> None:
    counts = {path.name: len(split(list(read_records(path)))[0]) for path, _ in REAL_SAMPLES}
    assert counts == {
        "2025-10-15.json": 26,
        "2024-12-11.json": 26,
        "2025-01-10.json": 9,
        "2025-03-18.jsonl.gz": 465,
        "kaggle-snapshot-head.jsonl": 200,
        "oai-pmh-arXivRaw-ListRecords.xml": 387,
        "oai-pmh-arXivRaw-GetRecord.xml": 1,
        "atom-api-query.xml": 10,
    }


def test_whole_hf_archive_through_files() -> None:
    results = [r for path in iter_input_files([HF]) for r in read_records(path)]
    records, errors = split(results)
    assert errors == []
    assert len(records) == 9881
    assert len({r.paper.id for r in records}) == 9877


def test_gzip_is_transparent_whatever_the_name(tmp_path: Path) -> None:
    source = SAMPLES / "kaggle-snapshot-head.jsonl"
    plain = list(read_records(source))
    assert len(plain) == 200
    for name in ("head.jsonl.gz", "head.jsonl"):  # gzip recognized by content, not name
        path = tmp_path / name
        path.write_bytes(gzip.compress(source.read_bytes()))
        assert list(read_records(path)) == plain
    hf = tmp_path / "2024-12-11.json.gz"
    hf.write_bytes(gzip.compress((HF / "2024-12-11.json").read_bytes()))
    assert [r.paper.id for r in split(list(read_records(hf)))[0]] == [
        r.paper.id for r in split(list(read_records(HF / "2024-12-11.json")))[0]
    ]


def test_broken_line_in_a_real_listing(tmp_path: Path) -> None:
    lines = gzip.decompress((LISTINGS / "2025-03-18.jsonl.gz").read_bytes()).split(b"\n")
    lines[41] = lines[41][:-40]  # line 42: cut short, no longer JSON
    lines[99] = b'{"id": "2503.99999", "title": "no abstract"}'  # line 100: a field missing
    lines.insert(10, b"")  # a blank line: skipped, but it shifts the numbering
    path = tmp_path / "2025-03-18.jsonl.gz"
    path.write_bytes(gzip.compress(b"\n".join(lines)))
    records, errors = split(list(read_records(path)))
    assert len(records) == 463
    assert [(e.line, e.message.split(":")[0]) for e in errors] == [
        (43, "invalid JSON"),
        (101, "summary"),
    ]
    assert errors[0].path == str(path)
    assert records[-1].line == 466


def test_truncated_gzip_reports_and_keeps_what_was_read(tmp_path: Path) -> None:
    data = (LISTINGS / "2025-03-18.jsonl.gz").read_bytes()
    path = tmp_path / "2025-03-18.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    records, errors = split(list(read_records(path)))
    assert 100 < len(records) < 465
    [error] = errors
    assert "cannot read" in error.message


def test_document_errors_become_record_errors(tmp_path: Path) -> None:
    broken = tmp_path / "page.xml"
    broken.write_bytes(
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n<ListRecords>\n</OAI-PMH>'
    )
    [error] = list(read_records(broken))
    assert isinstance(error, RecordError)
    assert error.line == 3
    oai_error = tmp_path / "error.xml"
    oai_error.write_bytes(
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
        b'<error code="badArgument">bad from</error></OAI-PMH>'
    )
    [error] = list(read_records(oai_error))
    assert isinstance(error, RecordError)
    assert (error.line, error.message) == (2, "OAI-PMH error badArgument: bad from")


def test_explicit_format_empty_file_and_unknown(tmp_path: Path) -> None:
    generic = tmp_path / "papers.jsonl"
    generic.write_bytes(GENERIC_LINE + b"\n")
    [record] = read_records(generic, "generic")
    assert isinstance(record, ParsedRecord)
    assert record.paper.id == "x:1"
    # Read as the wrong format, every line is an error, not a crash.
    [error] = read_records(generic, "kaggle")
    assert isinstance(error, RecordError)
    assert error.line == 1
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"\n")
    assert list(read_records(empty)) == []
    assert list(read_records(empty, "hf-daily")) == []
    assert list(read_records(empty, "arxiv-oai")) == []
    with pytest.raises(ValueError, match="unknown format 'csv'"):
        list(read_records(generic, "csv"))
    unknown = tmp_path / "unknown.json"
    unknown.write_bytes(b'{"name": "x"}\n')
    with pytest.raises(UnknownFormat, match=r"unknown\.json"):
        list(read_records(unknown))
