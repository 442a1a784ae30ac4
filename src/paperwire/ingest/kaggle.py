"""The Kaggle/Cornell ``arxiv-metadata-oai-snapshot.json`` bulk file (JSON lines).

A line: ``{"id", "submitter", "authors": "A, B and C", "title", "comments",
"journal-ref", "doi", "report-no", "categories": "hep-ph math.CO", "license",
"abstract", "versions": [{"version": "v1", "created": RFC 2822 date}, ...],
"update_date": "2008-11-26", "authors_parsed": [...]}``.

The author string is LaTeX (``C. Bal\\'azs``) with affiliations in parentheses; it is
split like arXiv's own OAI ``authors`` field. ``authors_parsed`` is not used: it is
"last, first" pieces that would have to be reassembled, and it was derived from the
same string. The first category is the primary one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from paperwire.ingest.arxiv_ids import parse_arxiv_id
from paperwire.ingest.jsonl import iter_json_lines
from paperwire.ingest.text import clean_abstract, clean_line, split_authors
from paperwire.ingest.values import (
    BadRecord,
    get_str,
    opt_str,
    parse_iso_datetime,
    parse_rfc2822,
    version_number,
)
from paperwire.models import PaperRecord, ParsedRecord, RecordError

__all__ = ["parse_kaggle_line", "parse_kaggle_lines", "parse_versions"]


def parse_kaggle_lines(lines: Iterable[bytes], path: str) -> Iterator[ParsedRecord | RecordError]:
    return iter_json_lines(lines, path, parse_kaggle_line)


def parse_kaggle_line(obj: Mapping[str, object], line: int) -> ParsedRecord:
    arxiv_id, id_version = parse_arxiv_id(get_str(obj, "id"))
    version, submitted_at, last_created = parse_versions(obj.get("versions"))
    updated_at = last_created
    update_date = opt_str(obj, "update_date")
    if update_date is not None:
        try:
            updated = parse_iso_datetime(update_date)
        except ValueError as exc:
            raise BadRecord(f"update_date: not a date: {update_date!r}") from exc
        # update_date also moves for metadata-only edits; keep whichever is later.
        updated_at = max(updated, updated_at) if updated_at else updated
    authors = split_authors(get_str(obj, "authors"))
    if not authors:
        raise BadRecord("authors: no names")
    paper = PaperRecord(
        id=arxiv_id,
        source="arxiv",
        title=clean_line(get_str(obj, "title")),
        abstract=clean_abstract(get_str(obj, "abstract")),
        authors=authors,
        categories=(opt_str(obj, "categories") or "").split(),
        version=version or id_version,
        submitted_at=submitted_at,
        updated_at=updated_at,
        comments=_opt_line(obj, "comments"),
        journal_ref=_opt_line(obj, "journal-ref"),
        doi=_opt_line(obj, "doi"),
        license=opt_str(obj, "license"),
    )
    return ParsedRecord(paper=paper, line=line)


def parse_versions(value: object) -> tuple[int | None, datetime | None, datetime | None]:
    """``(highest version, v1 date, last version's date)`` from a ``versions`` list.

    Each item is ``{"version": "vN", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}``.
    """
    if value is None:
        return None, None, None
    if not isinstance(value, list):
        raise BadRecord(f"versions: expected a list, got {type(value).__name__}")
    dated: list[tuple[int, datetime]] = []
    for item in value:
        if not isinstance(item, Mapping):
            raise BadRecord("versions: expected objects")
        number = version_number(get_str(item, "version", "versions[]."), "versions[].version")
        created = get_str(item, "created", "versions[].")
        try:
            dated.append((number, parse_rfc2822(created)))
        except ValueError as exc:
            raise BadRecord(f"versions[].created: {exc}") from exc
    if not dated:
        return None, None, None
    dated.sort()
    return dated[-1][0], dated[0][1], dated[-1][1]


def _opt_line(obj: Mapping[str, object], key: str) -> str | None:
    value = opt_str(obj, key)
    return clean_line(value) if value else None
