"""Import through the pipeline into a real SQLite database: counts, idempotency, versions."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from sqlalchemy import Engine, func, select

from paperwire.ingest.pipeline import import_paths
from paperwire.store.schema import feed_entries, links, paper_authors, papers


def count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_both_archives_give_the_documented_counts_and_reimport_changes_nothing(
    engine: Engine, data_dir: Path
) -> None:
    sources = [data_dir / "hf-daily-papers", data_dir / "arxiv-daily-listings"]
    first = import_paths(engine, sources)
    assert first.errors == []
    assert first.records == 9_881 + 120_405
    assert count(engine, papers) == 80_317  # 74,728 + 9,877 - 4,288 in both
    assert count(engine, feed_entries) == 9_881
    before = {t.name: count(engine, t) for t in (papers, feed_entries, links, paper_authors)}

    second = import_paths(engine, sources)
    assert (second.papers_inserted, second.papers_updated) == (0, 0)
    assert (second.feed_inserted, second.feed_updated) == (0, 0)
    after = {t.name: count(engine, t) for t in (papers, feed_entries, links, paper_authors)}
    assert after == before


def test_a_newer_arxiv_version_replaces_metadata_and_keeps_feed_entries(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    assert import_paths(engine, [data_dir / "hf-daily-papers" / "2025-10-06.json"]).errors == []
    # The Kaggle snapshot's real record shape, restated for a featured paper at v3.
    sample = json.loads(
        (data_dir / "arxiv-formats" / "kaggle-snapshot-head.jsonl").read_text().splitlines()[0]
    )
    sample.update(
        {
            "id": "2510.00515",
            "title": "EPIC: a revised title",
            "abstract": "Revised abstract. Code: https://github.com/example/epic-v3.",
            "versions": [
                {"version": "v1", "created": "Wed, 1 Oct 2025 04:56:40 GMT"},
                {"version": "v2", "created": "Mon, 13 Oct 2025 10:00:00 GMT"},
                {"version": "v3", "created": "Mon, 3 Nov 2025 10:00:00 GMT"},
            ],
        }
    )
    revised = tmp_path / "revision.jsonl"
    revised.write_text(json.dumps(sample) + "\n")
    summary = import_paths(engine, [revised])
    assert summary.errors == []
    assert summary.papers_updated == 1
    with engine.connect() as conn:
        row = conn.execute(select(papers).where(papers.c.id == "2510.00515")).mappings().one()
        entry = (
            conn.execute(select(feed_entries).where(feed_entries.c.paper_id == "2510.00515"))
            .mappings()
            .one()
        )
        urls = set(
            conn.execute(select(links.c.url).where(links.c.paper_id == "2510.00515")).scalars()
        )
    assert (row["title"], row["version"]) == ("EPIC: a revised title", 3)
    assert row["imported_upvotes"] == 16
    assert entry["upvotes"] == 16
    assert str(entry["feed_date"]) == "2025-10-06"
    assert "https://github.com/example/epic-v3" in urls  # extracted from the new abstract
    assert "https://github.com/ZichenWen1/EPIC" in urls  # the link HF stated stays
    # the older HF statement, imported again, does not bring the old title back
    import_paths(engine, [data_dir / "hf-daily-papers" / "2025-10-06.json"])
    with engine.connect() as conn:
        title = conn.execute(select(papers.c.title).where(papers.c.id == "2510.00515")).scalar_one()
    assert title == "EPIC: a revised title"


def test_a_broken_record_skips_only_itself(engine: Engine, data_dir: Path, tmp_path: Path) -> None:
    rows = gzip.decompress(
        (data_dir / "arxiv-daily-listings" / "2025-10-06.jsonl.gz").read_bytes()
    ).splitlines()
    rows[2] = b'{"id": "not an arxiv id", "title": "x"}'
    broken = tmp_path / "2025-10-06.jsonl"
    broken.write_bytes(b"\n".join(rows))
    summary = import_paths(engine, [broken])
    assert [(e.path, e.line) for e in summary.errors] == [(str(broken), 3)]
    assert count(engine, papers) == len({json.loads(r)["id"] for n, r in enumerate(rows) if n != 2})


def test_a_file_of_unknown_format_is_reported_and_the_others_imported(
    engine: Engine, data_dir: Path, tmp_path: Path
) -> None:
    (tmp_path / "notes.json").write_text('{"hello": "world"}\n')
    day = tmp_path / "2025-10-06.json"
    day.write_bytes((data_dir / "hf-daily-papers" / "2025-10-06.json").read_bytes())
    summary = import_paths(engine, [tmp_path])
    assert [(e.path, e.line) for e in summary.errors] == [(str(tmp_path / "notes.json"), 1)]
    assert "unknown input format" in summary.errors[0].message
    assert count(engine, feed_entries) == 16
