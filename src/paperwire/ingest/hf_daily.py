"""Hugging Face daily papers: responses of ``GET /api/daily_papers?date=YYYY-MM-DD``.

Three shapes occur in the real archive, all handled here:

1. a JSON list of feed items (the API's own answer; 558 of 580 files);
2. a JSON list of *Python-repr strings* of items (an archiver wrote ``str(item)``;
   21 files, e.g. ``2024-12-11.json``), read with :func:`ast.literal_eval`, which
   accepts literals only and never runs code;
3. an object ``{"status", "date", "count", "data": [...]}`` whose ``data`` may hold
   either of the above (``2025-01-10.json``).

An item: ``{paper: {id, authors[{name, hidden...}], publishedAt, title, summary,
upvotes, submittedOnDailyBy, githubRepo?, projectPage?, organization?}, publishedAt,
title, thumbnail, numComments, submittedBy, organization?}``. ``paper.publishedAt`` is
the arXiv date; the outer ``publishedAt`` is when the paper entered the list.

The feed date is the day the list is for: the explicit ``feed_date`` argument, else the
object's ``date``, else a ``YYYY-MM-DD`` in the file name, else the item's outer
``publishedAt`` date.

Every record carries the line where its item starts. The top-level array is walked
one element at a time with ``JSONDecoder.raw_decode``, so a malformed item costs only
that item: semantic errors (missing ``paper.id``, a bad id, wrong types, a bad repr
string) become a RecordError and the walk goes on; after a JSON syntax error inside
an item the walk resumes at the next line indented like the array's elements (the
archive is pretty-printed), or stops if there is none.
"""

from __future__ import annotations

import ast
import json
import re
from bisect import bisect_left
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime

from paperwire.ingest.arxiv_ids import parse_arxiv_id
from paperwire.ingest.text import clean_abstract, clean_line
from paperwire.ingest.values import (
    BadRecord,
    date_in_name,
    get_int,
    get_mapping,
    get_str,
    opt_str,
    parse_iso_datetime,
)
from paperwire.models import (
    FeedRecord,
    Link,
    LinkKind,
    OrganizationRecord,
    PaperRecord,
    ParsedRecord,
    RecordError,
)

__all__ = ["parse_hf_daily"]

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")
# A repr string longer than this is not an item; literal_eval on it would only burn CPU.
_MAX_REPR_CHARS = 2_000_000


def parse_hf_daily(
    data: bytes | str, path: str, feed_date: date | None = None
) -> Iterator[ParsedRecord | RecordError]:
    """Parse one daily-papers response: a ParsedRecord (paper + feed entry) per item."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            yield RecordError(path, data.count(b"\n", 0, exc.start) + 1, f"not UTF-8: {exc}")
            return
    else:
        text = data
    walk = _Walk(text)
    walk.run()
    day = feed_date or _iso_date(walk.date) or date_in_name(path)
    for item in walk.items:
        if item.error is not None:
            yield RecordError(path, item.error_line or item.line, item.error)
            continue
        try:
            yield _record(_item_mapping(item.value), item.line, item.position, day)
        except ValueError as exc:  # BadRecord, InvalidArxivId, bad dates
            yield RecordError(path, item.line, str(exc))
    for line, message in walk.errors:
        yield RecordError(path, line, message)


# --- walking the JSON document -----------------------------------------------------


@dataclass(slots=True)
class _Item:
    position: int  # index in the day's list
    line: int  # where the item starts
    value: object = None
    error: str | None = None
    error_line: int | None = None


class _Abandon(Exception):
    """A syntax error the walk cannot recover from; it was already recorded."""


class _Walk:
    """Finds the items of a document and the lines they start on."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.items: list[_Item] = []
        self.errors: list[tuple[int, str]] = []  # file-level: (line, message)
        self.date: object = None  # the object shape's "date"
        self._newlines = [m.start() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect_left(self._newlines, offset) + 1

    def decode(self, pos: int) -> tuple[object, int]:
        """One JSON value at ``pos``; every failure is a JSONDecodeError with a position.

        The stdlib decoder also raises RecursionError (deep nesting) and a plain
        ValueError (integers over 4,300 digits) on hostile input.
        """
        try:
            value, end = _DECODER.raw_decode(self.text, pos)
        except json.JSONDecodeError:
            raise
        except (RecursionError, ValueError) as exc:
            raise json.JSONDecodeError(f"unreadable value ({exc})", self.text, pos) from exc
        return value, end

    def skip(self, pos: int) -> int:
        match = _WHITESPACE.match(self.text, pos)
        return match.end() if match else pos

    def run(self) -> None:
        try:
            pos = self.skip(0)
            first = self.text[pos : pos + 1]
            if first == "[":
                pos = self.array(pos)
            elif first == "{":
                pos = self.object(pos)
            else:
                self.not_a_list(pos)
                return
            pos = self.skip(pos)
            if pos < len(self.text):
                self.errors.append((self.line(pos), "unexpected data after the JSON document"))
        except json.JSONDecodeError as exc:
            self.errors.append((exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"))
        except _Abandon:
            pass

    def not_a_list(self, pos: int) -> None:
        try:
            value, end = self.decode(pos)
            if self.skip(end) < len(self.text):
                raise json.JSONDecodeError("Extra data", self.text, self.skip(end))
        except json.JSONDecodeError as exc:
            self.errors.append((exc.lineno, f"invalid JSON: {exc.msg} (column {exc.colno})"))
            return
        kind = "null" if value is None else type(value).__name__
        self.errors.append((self.line(pos), f"expected a list of papers, got a JSON {kind}"))

    def object(self, pos: int) -> int:
        """The ``{"status", "date", "count", "data": [...]}`` shape."""
        text, seen_data = self.text, False
        pos = self.skip(pos + 1)
        while text[pos : pos + 1] != "}":
            if text[pos : pos + 1] != '"':
                raise json.JSONDecodeError("Expecting property name", text, pos)
            key, pos = self.decode(pos)
            pos = self.skip(pos)
            if text[pos : pos + 1] != ":":
                raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
            pos = self.skip(pos + 1)
            if key == "data" and text[pos : pos + 1] == "[":
                pos, seen_data = self.array(pos), True
            else:
                value, pos = self.decode(pos)
                if key == "date":
                    self.date = value
            pos = self.skip(pos)
            if text[pos : pos + 1] == ",":
                pos = self.skip(pos + 1)
            elif text[pos : pos + 1] != "}":
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        if not seen_data:
            self.errors.append((self.line(pos), 'expected a list of papers or a "data" list'))
        return pos + 1

    def array(self, pos: int) -> int:
        """Walk a list of items from its ``[``; return the offset after its ``]``."""
        text = self.text
        pos = self.skip(pos + 1)
        if text[pos : pos + 1] == "]":
            return pos + 1
        resync = self._resync_pattern(pos)
        position = 0
        while True:
            start = pos
            try:
                value, pos = self.decode(pos)
            except json.JSONDecodeError as exc:
                message = f"invalid JSON in the item starting at line {self.line(start)}: {exc.msg}"
                self.items.append(_Item(position, self.line(start), None, message, exc.lineno))
                pos = self._resume(resync, start + 1)
                position += 1
                continue
            self.items.append(_Item(position, self.line(start), value))
            pos = self.skip(pos)
            following = text[pos : pos + 1]
            if following == "]":
                return pos + 1
            if following == ",":
                pos = self.skip(pos + 1)
            else:  # the item did not end where JSON says it did: it is broken
                item = self.items[-1]
                item.value = None
                item.error = (
                    f"invalid JSON in the item starting at line {item.line}: "
                    "Expecting ',' delimiter"
                )
                item.error_line = self.line(pos)
                pos = self._resume(resync, text.rfind("\n", 0, pos) + 1)
            position += 1

    def _resync_pattern(self, first: int) -> re.Pattern[str] | None:
        """Lines that start like the first element: same indentation, same opening char."""
        line_start = self.text.rfind("\n", 0, first) + 1
        indent = self.text[line_start:first]
        if line_start == 0 or indent.strip():
            return None  # not one element per line: no safe place to resume
        return re.compile("^" + re.escape(indent + self.text[first]), re.MULTILINE)

    def _resume(self, pattern: re.Pattern[str] | None, search_from: int) -> int:
        """The offset of the next element that decodes and is followed by ``,`` or ``]``."""
        for match in pattern.finditer(self.text, search_from) if pattern else ():
            candidate = match.end() - 1
            try:
                _, end = self.decode(candidate)
            except json.JSONDecodeError:
                continue
            following = self.skip(end)
            if self.text[following : following + 1] in (",", "]"):
                return candidate
        raise _Abandon


# --- one item to one record --------------------------------------------------------


def _item_mapping(value: object) -> Mapping[str, object]:
    if isinstance(value, str):  # the repr-strings shape
        if len(value) > _MAX_REPR_CHARS:
            raise BadRecord("item: repr string too long")
        try:
            value = ast.literal_eval(value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError) as exc:
            raise BadRecord(f"item: not a valid Python literal ({type(exc).__name__})") from exc
    if not isinstance(value, Mapping):
        kind = "null" if value is None else type(value).__name__
        raise BadRecord(f"item: expected an object, got {kind}")
    return value


def _record(
    item: Mapping[str, object], line: int, position: int, feed_date: date | None
) -> ParsedRecord:
    paper = get_mapping(item, "paper")
    if paper is None:
        raise BadRecord("paper: missing")
    arxiv_id, version = parse_arxiv_id(get_str(paper, "id", "paper."))
    title = opt_str(paper, "title", "paper.") or get_str(item, "title")
    abstract = opt_str(paper, "summary", "paper.") or get_str(item, "summary")
    published = _datetime(paper, "publishedAt", "paper.")
    day = feed_date or _listed_on(item)
    record = PaperRecord(
        id=arxiv_id,
        source="arxiv",
        title=clean_line(title),
        abstract=clean_abstract(abstract),
        authors=_authors(paper.get("authors")),
        version=version,
        submitted_at=published,
        thumbnail_url=opt_str(item, "thumbnail"),
        links=_links(paper),
    )
    handle, full_name = _submitter(item, paper)
    feed = FeedRecord(
        paper_id=arxiv_id,
        feed_date=day,
        position=position,
        upvotes=get_int(paper, "upvotes", "paper."),
        num_comments=get_int(item, "numComments"),
        submitted_by=handle,
        submitted_by_name=full_name,
        organization=_organization(item, paper),
    )
    return ParsedRecord(paper=record, line=line, feed=feed)


def _authors(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRecord("paper.authors: expected a list")
    names = []
    for author in value:
        if not isinstance(author, Mapping):
            raise BadRecord("paper.authors: expected objects")
        # Hidden authors (HF's "hidden" flag) are still authors of the paper.
        name = opt_str(author, "name", "paper.authors[].")
        if name:
            names.append(clean_line(name))
    return names


def _links(paper: Mapping[str, object]) -> list[Link]:
    links = []
    repo = opt_str(paper, "githubRepo", "paper.")
    if repo:
        links.append(Link(LinkKind.CODE, repo))
    project = opt_str(paper, "projectPage", "paper.")
    if project:
        links.append(Link(LinkKind.PROJECT, project))
    return links


def _submitter(
    item: Mapping[str, object], paper: Mapping[str, object]
) -> tuple[str | None, str | None]:
    """(handle, full name) of who put the paper on the list."""
    by = get_mapping(item, "submittedBy")
    if by is not None:  # {"name": handle, "fullname": ...}
        return opt_str(by, "name", "submittedBy."), opt_str(by, "fullname", "submittedBy.")
    by = get_mapping(paper, "submittedOnDailyBy", "paper.")
    if by is not None:  # {"user": handle, "fullname": ...}
        where = "paper.submittedOnDailyBy."
        return opt_str(by, "user", where), opt_str(by, "fullname", where)
    return None, None


def _organization(
    item: Mapping[str, object], paper: Mapping[str, object]
) -> OrganizationRecord | None:
    org, where = get_mapping(item, "organization"), "organization."
    if org is None:
        org, where = get_mapping(paper, "organization", "paper."), "paper.organization."
    if org is None:
        return None
    slug = get_str(org, "name", where)
    return OrganizationRecord(
        slug=slug,
        name=opt_str(org, "fullname", where) or slug,
        avatar_url=opt_str(org, "avatar", where),
    )


def _listed_on(item: Mapping[str, object]) -> date:
    published = _datetime(item, "publishedAt", "")
    if published is None:
        raise BadRecord("publishedAt: missing, and neither the file nor its name gives a date")
    return published.date()


def _datetime(obj: Mapping[str, object], key: str, where: str) -> datetime | None:
    value = opt_str(obj, key, where)
    if value is None:
        return None
    try:
        return parse_iso_datetime(value)
    except ValueError as exc:
        raise BadRecord(f"{where}{key}: not an ISO date: {value!r}") from exc


def _iso_date(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None
