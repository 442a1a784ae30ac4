"""OAI-PMH pages in arXiv's ``arXivRaw`` metadata format (ListRecords and GetRecord).

``arXivRaw`` is the richest arXiv format: every version with its date, the author
string as submitted, the license. A page looks like::

    <OAI-PMH><ListRecords>
      <record><header [status="deleted"]>...</header><metadata><arXivRaw>
        <id>0803.4354</id> <version version="v1"><date>Sun, 30 Mar 2008 ...</date></version>
        <title/> <authors/> <categories>cs.DM math.CO</categories> <comments/>
        <journal-ref/> <doi/> <license/> <abstract/>
      </arXivRaw></metadata></record> ...
      <resumptionToken cursor="0" completeListSize="1440">1403493|1001</resumptionToken>
    </ListRecords></OAI-PMH>

A harvest follows resumption tokens until one is empty. Deleted records carry no
metadata and are skipped. OAI-PMH reports problems as ``<error code="...">``:
``noRecordsMatch`` just means an empty result (e.g. nothing new since ``from``); any
other code raises :class:`OaiError`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime

from paperwire.ingest.arxiv_ids import parse_arxiv_id
from paperwire.ingest.text import clean_abstract, clean_line, split_authors
from paperwire.ingest.values import BadRecord, parse_rfc2822, version_number
from paperwire.ingest.xmltree import child_text, parse_xml
from paperwire.models import PaperRecord, ParsedRecord, RecordError

__all__ = ["OaiError", "OaiPage", "parse_oai_page"]

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RAW = "{http://arxiv.org/OAI/arXivRaw/}"


class OaiError(Exception):
    """The repository answered with an OAI-PMH error (other than ``noRecordsMatch``)."""

    def __init__(self, code: str, message: str, line: int = 1) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}")
        self.code = code
        self.line = line


@dataclass(slots=True)
class OaiPage:
    records: list[ParsedRecord | RecordError] = field(default_factory=list)
    resumption_token: str | None = None  # None: this was the last page
    complete_list_size: int | None = None


def parse_oai_page(data: bytes, path: str) -> OaiPage:
    """Parse one OAI-PMH response.

    Raises :class:`OaiError` for OAI-PMH errors and
    :class:`~paperwire.ingest.xmltree.XmlSyntaxError` when the page is not XML; a bad
    record is a :class:`RecordError` in ``records`` with the line its ``<record>`` starts.
    """
    root, lines = parse_xml(data, {f"{OAI}record", f"{OAI}error"})
    if root.tag != f"{OAI}OAI-PMH":
        raise OaiError("notOaiPmh", f"the document's root is {root.tag!r}, not OAI-PMH")
    for error in root.iter(f"{OAI}error"):
        code = error.get("code", "unknown")
        if code != "noRecordsMatch":
            raise OaiError(code, clean_line(error.text or ""), lines.get(error, 1))
    page = OaiPage()
    for record in root.iter(f"{OAI}record"):
        line = lines.get(record, 1)
        header = record.find(f"{OAI}header")
        if header is not None and header.get("status") == "deleted":
            continue
        try:
            page.records.append(ParsedRecord(paper=_paper(record), line=line))
        except ValueError as exc:
            page.records.append(RecordError(path, line, str(exc)))
    token = root.find(f".//{OAI}resumptionToken")
    if token is not None:
        page.resumption_token = (token.text or "").strip() or None
        size = token.get("completeListSize", "").strip()
        page.complete_list_size = int(size) if size.isdigit() else None
    return page


def _paper(record: ET.Element) -> PaperRecord:
    raw = record.find(f"{OAI}metadata/{RAW}arXivRaw")
    if raw is None:
        raise BadRecord("record: no arXivRaw metadata")
    arxiv_id, id_version = parse_arxiv_id(_required(raw, "id"))
    version, submitted_at, updated_at = _versions(raw)
    authors = split_authors(_required(raw, "authors"))
    if not authors:
        raise BadRecord("authors: no names")
    return PaperRecord(
        id=arxiv_id,
        source="arxiv",
        title=clean_line(_required(raw, "title")),
        abstract=clean_abstract(_required(raw, "abstract")),
        authors=authors,
        categories=(_text(raw, "categories") or "").split(),
        version=version or id_version,
        submitted_at=submitted_at,
        updated_at=updated_at,
        comments=_line(raw, "comments"),
        journal_ref=_line(raw, "journal-ref"),
        doi=_line(raw, "doi"),
        license=_line(raw, "license"),
    )


def _versions(raw: ET.Element) -> tuple[int | None, datetime | None, datetime | None]:
    """(highest version, first version's date, last version's date)."""
    dated: list[tuple[int, datetime]] = []
    for element in raw.findall(f"{RAW}version"):
        label = element.get("version", "")
        number = version_number(label)
        when = _text(element, "date")
        if when is None:
            raise BadRecord(f"version {label}: no date")
        try:
            dated.append((number, parse_rfc2822(when)))
        except ValueError as exc:
            raise BadRecord(f"version {label}: {exc}") from exc
    if not dated:
        return None, None, None
    dated.sort()
    return dated[-1][0], dated[0][1], dated[-1][1]


def _text(parent: ET.Element, name: str) -> str | None:
    return child_text(parent, f"{RAW}{name}")


def _required(parent: ET.Element, name: str) -> str:
    value = _text(parent, name)
    if value is None:
        raise BadRecord(f"{name}: missing")
    return value


def _line(parent: ET.Element, name: str) -> str | None:
    value = _text(parent, name)
    return clean_line(value) if value else None
