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
import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

from paperwire.config import Settings

ATOM_SAMPLE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "arxiv-formats"
    / "atom-api-query.xml"
)
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


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    at: float  # time.monotonic() when the request arrived
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    port: int = 0  # the client's port: one value means one connection


@dataclass(slots=True)
class _Faults:
    errors: int = 0
    error_status: int = 503
    retry_after: str | None = None
    slow: int = 0
    slow_seconds: float = 0.0
    malformed: int = 0
    empty: int = 0


@dataclass(frozen=True, slots=True)
class _Fault:
    kind: str  # "error", "slow", "malformed" or "empty"
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0


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


class ArxivReplay:
    def __init__(self, sample: Path = ATOM_SAMPLE) -> None:
        self._sample = _load(sample)
        self._lock = threading.Lock()
        self._faults = _Faults()
        self._stopping = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # --- life cycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/query"

    def __enter__(self) -> ArxivReplay:
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()  # ends slow answers still sleeping
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

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

    def fail_next(self, count: int, status: int = 503, retry_after: str | None = None) -> None:
        """The next ``count`` requests answer HTTP ``status`` (with ``Retry-After``)."""
        with self._lock:
            self._faults.errors = count
            self._faults.error_status = status
            self._faults.retry_after = retry_after

    def slow_next(self, count: int, seconds: float) -> None:
        """The next ``count`` requests wait ``seconds`` before answering."""
        with self._lock:
            self._faults.slow, self._faults.slow_seconds = count, seconds

    def malformed_next(self, count: int) -> None:
        """The next ``count`` requests answer 200 with a body that is not XML."""
        with self._lock:
            self._faults.malformed = count

    def empty_next(self, count: int) -> None:
        """The next ``count`` requests answer a feed with the real totals but no entries."""
        with self._lock:
            self._faults.empty = count

    def gaps(self) -> list[float]:
        """Seconds between consecutive requests' arrivals."""
        times = sorted(r.at for r in self.requests)
        return [b - a for a, b in itertools.pairwise(times)]

    # --- answering ----------------------------------------------------------------------

    def _fault(self) -> _Fault | None:
        """The misbehaviour due for this request, if any (each switch counts down)."""
        with self._lock:
            faults = self._faults
            if faults.errors:
                faults.errors -= 1
                return _Fault("error", status=faults.error_status, retry_after=faults.retry_after)
            if faults.slow:
                faults.slow -= 1
                return _Fault("slow", seconds=faults.slow_seconds)
            if faults.malformed:
                faults.malformed -= 1
                return _Fault("malformed")
            if faults.empty:
                faults.empty -= 1
                return _Fault("empty")
        return None

    def _feed(self, query: dict[str, list[str]]) -> bytes:
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

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        replay = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle and delayed ACKs
            # hold the body back ~40 ms on a kept-alive connection.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet tests

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with replay._lock:
                    replay.requests.append(
                        RecordedRequest(
                            time.monotonic(),
                            parts.path,
                            query,
                            {k.lower(): v for k, v in self.headers.items()},
                            self.client_address[1],
                        )
                    )
                fault = replay._fault()
                if fault is not None and fault.kind == "error":
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                    self._answer(fault.status, b"Service Unavailable\n", "text/plain", headers)
                    return
                if fault is not None and fault.kind == "malformed":
                    body = replay._feed(query)[:700]  # a feed cut off mid-way: not XML
                    self._answer(200, body, "application/atom+xml")
                    return
                if fault is not None and fault.kind == "empty":
                    feed = replay._feed(query)
                    first = _ENTRY.search(feed)
                    body = feed[: first.start()] + b"</feed>\n" if first else feed
                    self._answer(200, body, "application/atom+xml; charset=utf-8")
                    return
                # a slow answer: arrives after the client's timeout (unless the server stops)
                if (
                    fault is not None
                    and fault.kind == "slow"
                    and replay._stopping.wait(fault.seconds)
                ):
                    return
                if parts.path != "/api/query":
                    self._answer(404, b"not found\n", "text/plain")
                    return
                self._answer(200, replay._feed(query), "application/atom+xml; charset=utf-8")

            def _answer(
                self, status: int, body: bytes, media: str, headers: dict[str, str] | None = None
            ) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", media)
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in (headers or {}).items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler


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
