"""arXiv API responses (``export.arxiv.org/api/query``): an Atom feed of papers.

Each ``<entry>`` is one paper at its latest version: ``<id>`` is the abs URL with the
version (``http://arxiv.org/abs/1501.05039v1``, ``http://arxiv.org/abs/quant-ph/0210005v1``),
``<published>`` the v1 date and ``<updated>`` the latest version's date. arXiv adds
``arxiv:primary_category``, ``arxiv:comment``, ``arxiv:journal_ref`` and ``arxiv:doi``
in its own namespace, and OpenSearch totals for paging.

The API reports a bad query with HTTP 200 and a single entry whose id is
``http://arxiv.org/api/errors#...``; that raises :class:`ArxivApiError` so a harvest
does not mistake it for a paper or an empty result.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from paperwire.ingest.arxiv_ids import parse_arxiv_id
from paperwire.ingest.text import clean_abstract, clean_line
from paperwire.ingest.values import BadRecord, parse_iso_datetime
from paperwire.ingest.xmltree import child_text, parse_xml
from paperwire.models import PaperRecord, ParsedRecord, RecordError

__all__ = ["ArxivApiError", "AtomPage", "parse_atom_feed"]

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ERROR_ID = "arxiv.org/api/errors"
# arXiv categories (cs.LO, hep-th, physics.soc-ph). The API also lists MSC and ACM
# classes as <category> terms ("03B70, 68Q99", "F.4.1; F.4.m"); those are not kept.
_CATEGORY = re.compile(r"[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?")


class ArxivApiError(Exception):
    """The arXiv API rejected the query (its message is the error entry's summary)."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(f"arXiv API error: {message}")
        self.line = line


@dataclass(slots=True)
class AtomPage:
    records: list[ParsedRecord | RecordError] = field(default_factory=list)
    total_results: int | None = None
    start_index: int | None = None
    items_per_page: int | None = None


def parse_atom_feed(data: bytes, path: str) -> AtomPage:
    """Parse one API response.

    Raises :class:`ArxivApiError` for an API error and
    :class:`~paperwire.ingest.xmltree.XmlSyntaxError` when the page is not XML; a bad
    entry is a :class:`RecordError` in ``records`` with the line its ``<entry>`` starts.
    """
    root, lines = parse_xml(data, {f"{ATOM}entry"})
    if root.tag != f"{ATOM}feed":
        raise ArxivApiError(f"the document's root is {root.tag!r}, not an Atom feed")
    page = AtomPage(
        total_results=_int(root, f"{OPENSEARCH}totalResults"),
        start_index=_int(root, f"{OPENSEARCH}startIndex"),
        items_per_page=_int(root, f"{OPENSEARCH}itemsPerPage"),
    )
    for entry in root.findall(f"{ATOM}entry"):
        line = lines.get(entry, 1)
        entry_id = child_text(entry, f"{ATOM}id") or ""
        if _ERROR_ID in entry_id:
            message = child_text(entry, f"{ATOM}summary") or entry_id
            raise ArxivApiError(clean_line(message), line)
        try:
            page.records.append(ParsedRecord(paper=_paper(entry), line=line))
        except ValueError as exc:
            page.records.append(RecordError(path, line, str(exc)))
    return page


def _paper(entry: ET.Element) -> PaperRecord:
    arxiv_id, version = parse_arxiv_id(_required(entry, f"{ATOM}id", "id"))
    authors = [
        clean_line(name)
        for author in entry.findall(f"{ATOM}author")
        if (name := child_text(author, f"{ATOM}name"))
    ]
    if not authors:
        raise BadRecord("author: missing")
    categories = [
        term
        for element in entry.findall(f"{ATOM}category")
        if (term := (element.get("term") or "").strip()) and _CATEGORY.fullmatch(term)
    ]
    primary = entry.find(f"{ARXIV}primary_category")
    primary_term = primary.get("term") if primary is not None else None
    if primary_term:
        categories = [primary_term, *(c for c in categories if c != primary_term)]
    return PaperRecord(
        id=arxiv_id,
        source="arxiv",
        title=clean_line(_required(entry, f"{ATOM}title", "title")),
        abstract=clean_abstract(_required(entry, f"{ATOM}summary", "summary")),
        authors=authors,
        categories=categories,
        version=version,
        submitted_at=_date(entry, "published"),
        updated_at=_date(entry, "updated"),
        comments=_line(entry, f"{ARXIV}comment"),
        journal_ref=_line(entry, f"{ARXIV}journal_ref"),
        doi=_line(entry, f"{ARXIV}doi"),
    )


def _required(parent: ET.Element, tag: str, name: str) -> str:
    value = child_text(parent, tag)
    if value is None:
        raise BadRecord(f"{name}: missing")
    return value


def _line(parent: ET.Element, tag: str) -> str | None:
    value = child_text(parent, tag)
    return clean_line(value) if value else None


def _date(entry: ET.Element, name: str) -> datetime | None:
    value = child_text(entry, f"{ATOM}{name}")
    if value is None:
        return None
    try:
        return parse_iso_datetime(value)
    except ValueError as exc:
        raise BadRecord(f"{name}: not an ISO date: {value!r}") from exc


def _int(parent: ET.Element, tag: str) -> int | None:
    value = child_text(parent, tag)
    return int(value) if value is not None and value.isdigit() else None
