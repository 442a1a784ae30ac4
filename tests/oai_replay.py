"""A local stand-in for arXiv's OAI-PMH endpoint, replaying a real ``ListRecords`` page.

It serves ``../shared/data/arxiv-formats/oai-pmh-arXivRaw-ListRecords.xml`` (387 real
``arXivRaw`` records, datestamped 2016-10-20 and 2016-10-21, each in one or more sets
such as ``cs``, ``math``, ``physics:hep-th``) as a repository frozen at the moment of
that response, split into pages of ``page_size`` records:

- ``?verb=ListRecords&metadataPrefix=arXivRaw[&set=S][&from=D][&until=D]`` answers the
  records whose datestamp is within ``from``..``until`` (inclusive) and that are in set
  ``S`` (a record in ``physics:hep-th`` is in ``physics`` too); no ``set``: all 387.
  Each ``<record>`` is the file's element byte for byte, inside the file's envelope (its
  ``<responseDate>``, a ``<request>`` echoing the arguments) and followed, as arXiv does,
  by ``<resumptionToken cursor="N" completeListSize="M">id|next</resumptionToken>``;
  the last page's token is empty (and a list that fits one page has none).
- ``?verb=ListRecords&resumptionToken=T`` answers the next page; a token it did not
  issue (or issued before :meth:`OaiReplay.expire_tokens`) gets ``badResumptionToken``.
- OAI-PMH errors as the protocol has them (HTTP 200, ``<error code=...>``):
  ``noRecordsMatch`` when nothing is within the arguments, ``badArgument`` for a
  malformed date, ``from`` after ``until`` or a token mixed with other arguments,
  ``cannotDisseminateFormat`` for another ``metadataPrefix``, ``badVerb`` otherwise.

So ``set=cs`` gives the 55 records in ``cs``; use :meth:`OaiReplay.expected_ids` for
the ids any arguments should harvest rather than hard-coding counts.

Switches (each counts down over the next requests, whatever they ask): :meth:`fail_next`
(HTTP 503 with ``Retry-After``, in seconds or an HTTP date), :meth:`slow_next` (answers
after a delay, past a client's timeout), :meth:`malformed_next` (a page cut off mid-way:
not XML). ``delay_s`` delays every ``ListRecords`` answer (a harvest that takes a while,
for kill tests). Every request is recorded in :attr:`OaiReplay.requests` with its arrival
time (``time.monotonic()``), query, headers and client port; :meth:`pages_served` counts
the pages answered with records.

Use it as a context manager; it listens on a free port of 127.0.0.1::

    with OaiReplay(page_size=20, delay_s=0.0) as oai:
        settings = oai_settings(settings, oai)  # PAPERWIRE_ARXIV_OAI_URL=oai.url
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import ClassVar
from xml.sax.saxutils import escape, quoteattr

from paperwire.config import Settings
from replay_server import Fault, Query, ReplayServer, Reply, reply
from replay_server import RecordedRequest as RecordedRequest
from repo_paths import FORMATS_DIR

OAI_SAMPLE = FORMATS_DIR / "oai-pmh-arXivRaw-ListRecords.xml"
_RECORD = re.compile(rb"        <record>\n.*?        </record>\n", re.DOTALL)
_IDENTIFIER = re.compile(rb"<identifier>oai:arXiv\.org:(.+?)</identifier>")
_DATESTAMP = re.compile(rb"<datestamp>(\d{4}-\d\d-\d\d)</datestamp>")
_SET_SPEC = re.compile(rb"<setSpec>(.+?)</setSpec>")
_REQUEST_LINE = re.compile(rb"    <request [^>]*>.*?</request>\n")
_LIST_START = b"    <ListRecords>\n"
_TAIL = b"    </ListRecords>\n</OAI-PMH>\n"
FIRST_HARVEST_ID = 1403493  # arXiv's tokens look like "1403493|1001": harvest | next + 1
_MESSAGES = {
    "noRecordsMatch": "The combination of the values of the from, until, set and "
    "metadataPrefix arguments results in an empty list.",
    "badResumptionToken": "The value of the resumptionToken argument is invalid or expired.",
    "cannotDisseminateFormat": "The metadata format identified by the value given for the "
    "metadataPrefix argument is not supported by the item or by the repository.",
    "badVerb": "Value of the verb argument is not a legal OAI-PMH verb, the verb argument "
    "is missing, or the verb argument is repeated.",
}


@dataclass(frozen=True, slots=True)
class OaiRecord:
    paper_id: str
    datestamp: date
    sets: tuple[str, ...]
    element: bytes  # the file's <record> element, byte for byte

    def in_set(self, set_spec: str) -> bool:
        return any(s == set_spec or s.startswith(set_spec + ":") for s in self.sets)


@dataclass(frozen=True, slots=True)
class _Harvest:
    set_spec: str
    from_: date | None
    until: date | None
    records: tuple[OaiRecord, ...]


class _OaiProblem(Exception):
    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.message = message or _MESSAGES.get(code, code)


def _load(path: Path) -> tuple[bytes, list[OaiRecord]]:
    data = path.read_bytes()
    matches = list(_RECORD.finditer(data))
    if not matches:
        raise ValueError(f"{path} holds no <record>")
    records = []
    for match in matches:
        element = match.group()
        identifier, stamp = _IDENTIFIER.search(element), _DATESTAMP.search(element)
        if identifier is None or stamp is None:
            raise ValueError(f"a record of {path} has no identifier or datestamp")
        records.append(
            OaiRecord(
                paper_id=identifier.group(1).decode(),
                datestamp=date.fromisoformat(stamp.group(1).decode()),
                sets=tuple(s.decode() for s in _SET_SPEC.findall(element)),
                element=element,
            )
        )
    return data[: matches[0].start()], records


def _day(value: str, name: str) -> date:
    """A ``YYYY-MM-DD`` argument (the day granularity arXiv supports)."""
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise _OaiProblem("badArgument", f"Illegal date for {name}: {value!r}")


class OaiReplay(ReplayServer):
    url_path = "/oai"
    fault_order: ClassVar[tuple[str, ...]] = ("error", "slow", "malformed")

    def __init__(
        self, page_size: int = 100, delay_s: float = 0.0, sample: Path = OAI_SAMPLE
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.delay_s = delay_s
        self._head, self.records = _load(sample)
        self._harvests: dict[str, _Harvest] = {}
        self._next_harvest = FIRST_HARVEST_ID
        self._pages_served = 0
        super().__init__()

    # --- the data -----------------------------------------------------------------------

    def expected_ids(
        self, set_spec: str = "", from_: date | None = None, until: date | None = None
    ) -> list[str]:
        """The ids a harvest with these arguments gets, in the order they are served."""
        return [r.paper_id for r in self._select(set_spec, from_, until)]

    def _select(self, set_spec: str, from_: date | None, until: date | None) -> list[OaiRecord]:
        return [
            r
            for r in self.records
            if (not set_spec or r.in_set(set_spec))
            and (from_ is None or r.datestamp >= from_)
            and (until is None or r.datestamp <= until)
        ]

    # --- switches -----------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Forget every resumption token issued so far (as a repository restart does)."""
        with self._lock:
            self._harvests.clear()

    # --- what happened ------------------------------------------------------------------

    def pages_served(self) -> int:
        """Pages answered with records (faults and OAI errors not counted)."""
        with self._lock:
            return self._pages_served

    def tokens_requested(self) -> list[str]:
        """The resumption tokens asked for, in order (retries included)."""
        return [
            r.query["resumptionToken"][0] for r in self.requests if "resumptionToken" in r.query
        ]

    # --- answering ----------------------------------------------------------------------

    def answer(self, path: str, query: Query, fault: Fault | None) -> Reply | None:
        if path != "/oai":
            return reply(404, b"not found\n", "text/plain")
        body, has_records = self._answer_query(query)
        if has_records and self.delay_s and self.pause(self.delay_s):
            return None
        if fault is not None and fault.kind == "malformed":
            body = body[: len(body) // 2]  # cut off mid-way: not XML
        elif has_records:
            with self._lock:
                self._pages_served += 1
        return reply(200, body, "text/xml; charset=utf-8")

    def _answer_query(self, query: Query) -> tuple[bytes, bool]:
        """The OAI-PMH document answering ``query``, and whether it holds records."""
        args = {name: values[-1] for name, values in query.items()}
        try:
            if len(query.get("verb", [])) != 1 or args["verb"] != "ListRecords":
                raise _OaiProblem("badVerb")
            if "resumptionToken" in args:
                if set(args) != {"verb", "resumptionToken"}:
                    raise _OaiProblem("badArgument", "resumptionToken is an exclusive argument.")
                key, harvest, offset = self._resume(args["resumptionToken"])
            else:
                key, harvest = self._start(args)
                offset = 0
        except _OaiProblem as problem:
            # The protocol echoes the arguments, except when they were the problem.
            attrs = args if problem.code not in {"badVerb", "badArgument"} else {}
            return self._error(problem, attrs), False
        return self._page(key, harvest, offset, args), True

    def _start(self, args: dict[str, str]) -> tuple[str, _Harvest]:
        unknown = set(args) - {"verb", "metadataPrefix", "set", "from", "until"}
        if unknown or "metadataPrefix" not in args:
            raise _OaiProblem("badArgument", f"Illegal or missing arguments: {sorted(unknown)}")
        if args["metadataPrefix"] != "arXivRaw":
            raise _OaiProblem("cannotDisseminateFormat")
        from_ = _day(args["from"], "from") if "from" in args else None
        until = _day(args["until"], "until") if "until" in args else None
        if from_ and until and from_ > until:
            raise _OaiProblem("badArgument", "The from date is later than the until date.")
        records = tuple(self._select(args.get("set", ""), from_, until))
        if not records:
            raise _OaiProblem("noRecordsMatch")
        with self._lock:
            key = str(self._next_harvest)
            self._next_harvest += 1
            self._harvests[key] = _Harvest(args.get("set", ""), from_, until, records)
        return key, self._harvests[key]

    def _resume(self, token: str) -> tuple[str, _Harvest, int]:
        key, _, position = token.partition("|")
        with self._lock:
            harvest = self._harvests.get(key)
        if harvest is None or not position.isdigit():
            raise _OaiProblem("badResumptionToken")
        offset = int(position) - 1
        if not 0 < offset < len(harvest.records):
            raise _OaiProblem("badResumptionToken")
        return key, harvest, offset

    def _envelope(self, attrs: dict[str, str]) -> bytes:
        request = "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
        line = f"    <request{request}>{escape(self.url)}</request>\n".encode()
        head = _REQUEST_LINE.sub(lambda _m: line, self._head, count=1)
        return head.removesuffix(_LIST_START)

    def _page(self, key: str, harvest: _Harvest, offset: int, args: dict[str, str]) -> bytes:
        records = harvest.records
        chosen = records[offset : offset + self.page_size]
        after = offset + len(chosen)
        token = b""
        if after < len(records):
            token = (
                f'        <resumptionToken cursor="{offset}" completeListSize="{len(records)}">'
                f"{key}|{after + 1}</resumptionToken>\n"
            ).encode()
        elif offset > 0:  # the last page of several: an empty token ends the list
            token = (
                f'        <resumptionToken cursor="{offset}" completeListSize="{len(records)}"/>\n'
            ).encode()
        return (
            self._envelope(args) + _LIST_START + b"".join(r.element for r in chosen) + token + _TAIL
        )

    def _error(self, problem: _OaiProblem, attrs: dict[str, str]) -> bytes:
        error = f"    <error code={quoteattr(problem.code)}>{escape(problem.message)}</error>\n"
        return self._envelope(attrs) + error.encode() + b"</OAI-PMH>\n"


def oai_settings(settings: Settings, replay: OaiReplay, **overrides: object) -> Settings:
    """``settings`` pointed at the replay, polite but fast (tests measure the spacing)."""
    values: dict[str, object] = {
        "arxiv_oai_url": replay.url,
        "arxiv_request_interval_s": 0.05,
        "arxiv_timeout_s": 2.0,
        "arxiv_retries": 2,
        **overrides,
    }
    return settings.model_copy(update=values)
