"""The generic JSON-lines format, for papers that are not on arXiv.

Use it to import papers from any other source (a conference's accepted papers, an
internal report series, bioRxiv, OpenReview...). A file holds one JSON object per
line (UTF-8; ``.jsonl``, optionally gzipped as ``.jsonl.gz``); blank lines are
ignored. Example::

    {"id": "acl:2024.acl-long.123", "source": "acl", "title": "A Paper",
     "abstract": "We show that...", "authors": ["Ada Lovelace", "Alan Turing"],
     "published": "2024-08-12", "categories": ["cs.CL"],
     "url": "https://aclanthology.org/2024.acl-long.123/", "venue": "ACL 2024"}

Fields:

==============  ========  =================================================================
field           required  meaning
==============  ========  =================================================================
``id``          yes       the paper's id: 1-100 characters from ``A-Z a-z 0-9 . _ : / -``.
                          It is the paper's key in this instance, unique across all
                          sources, so prefix it with the source (``acl:2024.acl-long.123``).
                          An arXiv id is refused unless ``source`` is ``"arxiv"``, where it
                          may take any spelling (a version suffix sets the version).
``title``       yes       the title; line breaks and repeated spaces are collapsed.
``abstract``    yes       the abstract; wrapped lines are joined, blank lines separate
                          paragraphs.
``authors``     yes       a list of names in order, or one string
                          ``"A. Author, B. Author and C. Author"`` (split on commas,
                          semicolons and " and "; parenthesized affiliations dropped).
``published``   yes       ISO 8601 date (``2024-08-12``, midnight UTC) or date-time
                          (``2024-08-12T09:30:00Z``; without an offset it is taken as UTC).
``updated``     no        when this metadata was last revised, ISO 8601 like ``published``.
``categories``  no        a list of subject labels, main one first.
``url``         no        the paper's page (``http://`` or ``https://``).
``venue``       no        where it was published (``"ACL 2024"``).
``source``      no        a short lowercase name for the source, ``[a-z0-9_-]{1,40}``;
                          default ``"generic"``.
==============  ========  =================================================================

Other fields are ignored. A line that is not a JSON object or fails a rule above is
reported as ``file:line: field: problem`` and skipped; the rest of the file is read.

Importing the same file again changes nothing. To correct a paper, import it again
with a later ``updated``: the stored metadata is replaced only by a statement that is
newer (by ``updated``, else ``published``); an older or equally dated one only fills
fields that are still empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime

from paperwire.ingest.arxiv_ids import is_arxiv_id, parse_arxiv_id
from paperwire.ingest.jsonl import iter_json_lines
from paperwire.ingest.text import clean_abstract, clean_line, clean_names, split_authors
from paperwire.ingest.values import (
    BadRecord,
    get_str,
    get_str_list,
    opt_str,
    parse_iso_datetime,
)
from paperwire.models import PaperRecord, ParsedRecord, RecordError

__all__ = ["DEFAULT_SOURCE", "parse_generic_line", "parse_generic_lines"]

DEFAULT_SOURCE = "generic"
_ID = re.compile(r"[A-Za-z0-9._:/-]{1,100}")
_SOURCE = re.compile(r"[a-z0-9_-]{1,40}")


def parse_generic_lines(lines: Iterable[bytes], path: str) -> Iterator[ParsedRecord | RecordError]:
    return iter_json_lines(lines, path, parse_generic_line)


def parse_generic_line(obj: Mapping[str, object], line: int) -> ParsedRecord:
    source = opt_str(obj, "source") or DEFAULT_SOURCE
    if not _SOURCE.fullmatch(source):
        raise BadRecord(f"source: must match [a-z0-9_-]{{1,40}}: {source[:50]!r}")
    paper_id = get_str(obj, "id").strip()
    version = None
    if source == "arxiv":
        paper_id, version = parse_arxiv_id(paper_id)
    elif not _ID.fullmatch(paper_id):
        raise BadRecord(f"id: must be 1-100 of A-Z a-z 0-9 . _ : / -: {paper_id[:50]!r}")
    elif is_arxiv_id(paper_id):
        # Papers are keyed by id alone: this would overwrite the arXiv paper.
        raise BadRecord(f'id: {paper_id!r} is an arXiv id; give "source": "arxiv" or another id')
    published_at = _datetime(get_str(obj, "published"), "published")
    updated_at = _opt_datetime(obj, "updated")
    url = opt_str(obj, "url")
    if url is not None and not url.lower().startswith(("http://", "https://")):
        raise BadRecord(f"url: must start with http:// or https://: {url[:50]!r}")
    venue = opt_str(obj, "venue")
    paper = PaperRecord(
        id=paper_id,
        source=source,
        title=clean_line(get_str(obj, "title")),
        abstract=clean_abstract(get_str(obj, "abstract")),
        authors=_authors(obj),
        categories=[clean_line(c) for c in get_str_list(obj, "categories", required=False)],
        version=version,
        submitted_at=published_at,
        updated_at=updated_at,
        url=url,
        venue=clean_line(venue) if venue else None,
    )
    return ParsedRecord(paper=paper, line=line)


def _datetime(value: str, key: str) -> datetime:
    try:
        return parse_iso_datetime(value)
    except ValueError as exc:
        raise BadRecord(f"{key}: not an ISO 8601 date: {value[:50]!r}") from exc


def _opt_datetime(obj: Mapping[str, object], key: str) -> datetime | None:
    value = opt_str(obj, key)
    return _datetime(value, key) if value is not None else None


def _authors(obj: Mapping[str, object]) -> list[str]:
    value = obj.get("authors")
    names = (
        split_authors(value)
        if isinstance(value, str)
        else clean_names(get_str_list(obj, "authors"))
    )
    if not names:
        raise BadRecord("authors: no names")
    return names
