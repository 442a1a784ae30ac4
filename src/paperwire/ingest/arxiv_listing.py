"""Daily arXiv listings: one JSON object per line, one (gzipped) file per listing day.

A line: ``{"id", "categories": [primary, ...], "pdf", "abs", "authors": [...], "title",
"comment", "summary"}``. The listing states no dates, only the day it was listed,
which comes from the file name (``2025-03-18.jsonl.gz``). That day is used as both
``submitted_at`` and ``updated_at`` (midnight UTC): the pipeline keeps the earliest
submitted date any source gives and lets the latest statement win for metadata, so a
paper listed again after a replacement gets the newer text.

This is the bulk format (120k rows in the real data), so the per-line work is kept to
orjson, one regex for the id and ``str.split`` based clean-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime

from paperwire.ingest.arxiv_ids import parse_arxiv_id
from paperwire.ingest.jsonl import iter_json_lines
from paperwire.ingest.text import clean_abstract, clean_line, clean_names
from paperwire.ingest.values import (
    date_in_name,
    get_str,
    get_str_list,
    midnight_utc,
    opt_str,
)
from paperwire.models import PaperRecord, ParsedRecord, RecordError

__all__ = ["parse_listing_line", "parse_listing_lines"]


def parse_listing_lines(
    lines: Iterable[bytes], path: str, listing_date: date | None = None
) -> Iterator[ParsedRecord | RecordError]:
    """Parse a listing file's lines; ``listing_date`` defaults to the date in ``path``."""
    day = listing_date or date_in_name(path)
    stamp = midnight_utc(day) if day else None
    return iter_json_lines(lines, path, lambda obj, line: parse_listing_line(obj, line, stamp))


def parse_listing_line(
    obj: Mapping[str, object], line: int, listed_at: datetime | None
) -> ParsedRecord:
    arxiv_id, version = parse_arxiv_id(get_str(obj, "id"))
    comment = opt_str(obj, "comment")
    paper = PaperRecord(
        id=arxiv_id,
        source="arxiv",
        title=clean_line(get_str(obj, "title")),
        abstract=clean_abstract(get_str(obj, "summary")),
        authors=clean_names(get_str_list(obj, "authors")),
        categories=get_str_list(obj, "categories", required=False),
        version=version,
        submitted_at=listed_at,
        updated_at=listed_at,
        comments=clean_line(comment) if comment else None,
    )
    return ParsedRecord(paper=paper, line=line)
