"""A local stand-in for the arXiv API, replaying a real Atom response.

It serves ``../shared/data/arxiv-formats/atom-api-query.xml`` (10 real entries, old- and
new-style ids). An ``id_list`` query is answered with exactly the requested entries, each
the real ``<entry>`` element byte for byte, inside the real feed's header; ids it does
not hold get an empty feed, and malformed ids arXiv's error entry. Any other query
(``search_query``) pages through the matching entries with ``start``/``max_results``:
``cat:cs.LO OR cat:stat.ME`` keeps the entries listing one of those categories (primary
or cross-list, as arXiv does; ``cat:physics.*`` works too), anything else matches every
entry. ``sortBy=lastUpdatedDate`` or ``submittedDate`` sorts by ``<updated>`` or
``<published>`` (``sortOrder`` descending unless ``ascending``); without ``sortBy`` the
file's order is kept. The OpenSearch totals are set as arXiv sets them.

Switches make it misbehave the way arXiv sometimes does: the next N requests answer an
HTTP error (503 by default), answer slowly (past a client's timeout), answer a body
that is not XML, or answer a feed with no entries although its totals say there are
more (an arXiv API quirk harvesters meet). :meth:`ArxivReplay.revise` serves an entry
as a newer version with a new title (derived from the real entry), for metadata
refreshes. Every request is recorded with its arrival time, headers and client port,
so tests can measure the client's spacing and count its connections.

Use it as a context manager::

    with ArxivReplay() as arxiv:
        settings = settings.model_copy(update={"arxiv_api_url": arxiv.url})
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from paperwire.config import Settings
from replay_server import Fault, Query, ReplayServer, Reply, reply
from replay_server import RecordedRequest as RecordedRequest
from repo_paths import FORMATS_DIR

ATOM_SAMPLE = FORMATS_DIR / "atom-api-query.xml"
_ENTRY = re.compile(rb"  <entry>.*?</entry>\n", re.DOTALL)
_ENTRY_ID = re.compile(rb"<id>http://arxiv\.org/abs/(.+?)v(\d+)</id>")
_CATEGORY_TERM = re.compile(rb'<category term="([^"]+)"')
_DATE = {
    "lastUpdatedDate": re.compile(rb"<updated>(.*?)</updated>"),
    "submittedDate": re.compile(rb"<published>(.*?)</published>"),
}
_CAT_QUERY = re.compile(r"cat:(\S+?)\)?(?:\s+OR\s+|$)")
_PLAIN_ID = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?")
# arXiv's answer to a malformed id (HTTP 200 and one error entry), as the API sends it.
_ERROR_FEED = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title type="html">ArXiv Query: id_list={ids}</title>
  <id>http://arxiv.org/api/errors</id>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_{first}</id>
    <title>Error</title>
    <summary>incorrect id format for {first}</summary>
    <updated>2019-08-10T00:00:00-04:00</updated>
    <link href="http://arxiv.org/api/errors#incorrect_id_format_for_{first}"
      rel="alternate" type="text/html"/>
    <author>
      <name>arXiv api core</name>
    </author>
  </entry>
</feed>
"""


@dataclass(slots=True)
class _Sample:
    header: bytes
    entries: dict[str, bytes] = field(default_factory=dict)  # id without version -> entry
    order: list[str] = field(default_factory=list)


def _load(path: Path) -> _Sample:
    data = path.read_bytes()
    first = _ENTRY.search(data)
    if first is None:
        raise ValueError(f"{path} holds no <entry>")
    sample = _Sample(header=data[: first.start()])
    for match in _ENTRY.finditer(data):
        found = _ENTRY_ID.search(match.group())
        if found is None:
            raise ValueError(f"an entry of {path} has no arXiv id")
        paper_id = found.group(1).decode()
        sample.entries[paper_id] = match.group()
        sample.order.append(paper_id)
    return sample


def _opensearch(header: bytes, total: int, start: int, per_page: int) -> bytes:
    for name, value in (("totalResults", total), ("startIndex", start), ("itemsPerPage", per_page)):
        header = re.sub(
            rb"(<opensearch:" + name.encode() + rb"[^>]*>)\d+(</opensearch:)",
            rb"\g<1>" + str(value).encode() + rb"\g<2>",
            header,
        )
    return header


class ArxivReplay(ReplayServer):
    url_path = "/api/query"
    fault_order: ClassVar[tuple[str, ...]] = ("error", "slow", "malformed", "empty")

    def __init__(self, sample: Path = ATOM_SAMPLE) -> None:
        self._sample = _load(sample)
        super().__init__()

    # --- the data -----------------------------------------------------------------------

    @property
    def ids(self) -> list[str]:
        """The sample's paper ids, in the file's order."""
        return list(self._sample.order)

    def entry(self, paper_id: str) -> bytes:
        return self._sample.entries[paper_id]

    def revise(self, paper_id: str, version: int, title: str, updated: str) -> None:
        """Serve ``paper_id`` as version ``version`` with a new title, updated at
        ``updated`` (ISO 8601); everything else stays the real entry's."""
        entry = self._sample.entries[paper_id]
        entry = re.sub(
            rb"(arxiv\.org/(?:abs|pdf)/" + re.escape(paper_id.encode()) + rb")v\d+",
            rb"\g<1>v" + str(version).encode(),
            entry,
        )
        entry = re.sub(
            rb"<title>.*?</title>",
            b"<title>" + _xml_text(title) + b"</title>",
            entry,
            flags=re.DOTALL,
        )
        entry = re.sub(
            rb"<updated>.*?</updated>", b"<updated>" + updated.encode() + b"</updated>", entry
        )
        with self._lock:
            self._sample.entries[paper_id] = entry

    # --- switches -----------------------------------------------------------------------

    def empty_next(self, count: int) -> None:
        """The next ``count`` requests answer a feed with the real totals but no entries."""
        self.queue_faults(count, Fault("empty"))

    # --- answering ----------------------------------------------------------------------

    def answer(self, path: str, query: Query, fault: Fault | None) -> Reply:
        if fault is not None and fault.kind == "malformed":
            body = self._feed(query)[:700]  # a feed cut off mid-way: not XML
            return reply(200, body, "application/atom+xml")
        if fault is not None and fault.kind == "empty":
            feed = self._feed(query)
            first = _ENTRY.search(feed)
            body = feed[: first.start()] + b"</feed>\n" if first else feed
            return reply(200, body, "application/atom+xml; charset=utf-8")
        if path != "/api/query":
            return reply(404, b"not found\n", "text/plain")
        return reply(200, self._feed(query), "application/atom+xml; charset=utf-8")

    def _feed(self, query: Query) -> bytes:
        id_list = [i for part in query.get("id_list", []) for i in part.split(",") if i]
        with self._lock:
            entries = dict(self._sample.entries)
        if id_list:
            bad = [i for i in id_list if not _PLAIN_ID.fullmatch(i)]
            if bad:
                return _ERROR_FEED.format(ids=",".join(id_list), first=bad[0]).encode()
            wanted = [re.sub(r"v\d+$", "", i) for i in id_list]
            chosen = [entries[i] for i in dict.fromkeys(wanted) if i in entries]
            start, total = 0, len(chosen)
        else:
            matching = _search(
                [entries[i] for i in self._sample.order],
                query.get("search_query", [""])[0],
                query.get("sortBy", [""])[0],
                query.get("sortOrder", ["descending"])[0],
            )
            start = int(query.get("start", ["0"])[0])
            size = int(query.get("max_results", ["10"])[0])
            chosen, total = matching[start : start + size], len(matching)
        header = _opensearch(self._sample.header, total, start, len(chosen))
        return header + b"".join(chosen) + b"</feed>\n"


def _search(entries: list[bytes], search: str, sort_by: str, sort_order: str) -> list[bytes]:
    """The entries a ``search_query`` matches, in the order asked for."""
    categories = _CAT_QUERY.findall(search.strip().lstrip("("))
    if categories:
        entries = [
            entry
            for entry in entries
            if any(
                fnmatch.fnmatchcase(term.decode(), pattern)
                for term in _CATEGORY_TERM.findall(entry)
                for pattern in categories
            )
        ]
    date = _DATE.get(sort_by)
    if date is None:
        return entries

    def when(entry: bytes) -> datetime:
        found = date.search(entry)
        assert found is not None, entry[:200]
        return datetime.fromisoformat(found.group(1).decode())

    return sorted(entries, key=when, reverse=sort_order != "ascending")


def _xml_text(text: str) -> bytes:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").encode()


def replay_settings(settings: Settings, replay: ArxivReplay, **overrides: object) -> Settings:
    """``settings`` pointed at the replay, polite but fast (tests measure the spacing)."""
    values: dict[str, object] = {
        "arxiv_api_url": replay.url,
        "arxiv_request_interval_s": 0.05,
        "arxiv_timeout_s": 2.0,
        "arxiv_retries": 2,
        **overrides,
    }
    return settings.model_copy(update=values)
