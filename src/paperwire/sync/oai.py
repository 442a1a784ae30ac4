"""arXiv OAI-PMH harvest (backfill): ``ListRecords`` in ``arXivRaw``, following tokens.

A harvest asks ``verb=ListRecords&metadataPrefix=arXivRaw&set=S&from=D&until=D``, then
``verb=ListRecords&resumptionToken=T`` until the token is empty. Each page's records and
the next token (the ``oai`` cursor) are committed in one transaction, so a process
killed at any point resumes from the last committed token: no record lost, no page
imported twice. The cursor records the harvest's arguments; a harvest with the same
arguments resumes an unfinished one, other arguments start over, and a finished one is
marked ``finished``.

Without ``from_`` (the worker's scheduled harvest), a set harvested before is harvested
incrementally: from the repository's date (``<responseDate>``) when the last finished
harvest of that set began. OAI-PMH dates are days and ``from`` is inclusive, so the
overlap is at most a day, and importing is idempotent.

Errors: ``noRecordsMatch`` is a harvest of 0 records; ``badResumptionToken`` (the token
expired) drops the stored token and tells the operator to run the harvest again, which
then starts over; any other OAI-PMH error, an answer that is not XML, or a source that
stays down is a :class:`SyncError` naming the page; what was committed stays.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from paperwire.context import Context
from paperwire.errors import UpstreamError
from paperwire.ingest.arxiv_oai import OaiError, OaiPage, parse_oai_page
from paperwire.ingest.pipeline import ImportSummary
from paperwire.ingest.xmltree import XmlSyntaxError
from paperwire.store import sync_state
from paperwire.sync.arxiv import store_page
from paperwire.sync.oai_client import OaiClient
from paperwire.sync.report import Heartbeat, SyncError, SyncReport, no_heartbeat

SOURCE = "oai"
_RESPONSE_DATE = re.compile(rb"<responseDate>\s*(\d{4}-\d\d-\d\d)")


def harvest(
    context: Context,
    *,
    set_spec: str,
    from_: date | None = None,
    until: date | None = None,
    heartbeat: Heartbeat = no_heartbeat,
) -> SyncReport:
    """Harvest ``set_spec`` (``""``: every set), resuming an interrupted harvest.

    ``heartbeat`` is called after each committed page, and also before each wait for a
    retry (``503`` with ``Retry-After``), so that a worker's lease outlives the wait.
    """
    request = {
        "set": set_spec,
        "from": from_.isoformat() if from_ else None,
        "until": until.isoformat() if until else None,
    }
    with context.engine.connect() as conn:
        stored = sync_state.get_source(conn, SOURCE).cursor or {}
    state = HarvestState.make(stored, request, from_ is None and until is None)
    report = SyncReport(SOURCE)
    if state.token:
        report.note = f"resumed after page {state.pages}"
    client = OaiClient.from_settings(
        context.settings, context.shared_spacing(context.settings.arxiv_oai_url)
    )
    try:
        while True:
            number = state.pages + 1
            body = _fetch(client, state, number, heartbeat)
            page = _parse(context, body, state, number)
            if number == 1 and (found := _RESPONSE_DATE.search(body)):
                state.response_date = found.group(1).decode()
            if page.resumption_token is not None and page.resumption_token == state.token:
                raise SyncError(
                    f"arXiv OAI-PMH answered page {number} with the token of the page before "
                    f"({state.token!r}); stopped so as not to loop"
                )
            summary = ImportSummary()
            with context.engine.begin() as conn:
                store_page(conn, page.records, summary)
                state.advance(page)
                sync_state.save_cursor(conn, SOURCE, state.cursor())
            _count(report, page, summary)
            heartbeat()
            if state.finished:
                if not report.fetched and number == 1:
                    report.note = "no records match"
                return report
    finally:
        client.close()


def _fetch(client: OaiClient, state: HarvestState, number: int, heartbeat: Heartbeat) -> bytes:
    try:
        if state.token:
            return client.resume(state.token, waiting=heartbeat)
        return client.list_records(
            set_spec=state.request["set"],
            from_=_day(state.from_used),
            until=_day(state.request["until"]),
            waiting=heartbeat,
        )
    except UpstreamError as error:
        raise SyncError(f"{error.message} (page {number}{state.kept()})") from error


def _parse(context: Context, body: bytes, state: HarvestState, number: int) -> OaiPage:
    try:
        return parse_oai_page(body, f"OAI-PMH page {number}")
    except XmlSyntaxError as error:
        raise SyncError(
            f"arXiv OAI-PMH answered page {number} with something that is not XML "
            f"(line {error.line}: {error}){state.kept()}"
        ) from error
    except OaiError as error:
        if error.code == "badResumptionToken":
            state.token = None  # the next run starts the harvest over
            with context.engine.begin() as conn:
                sync_state.save_cursor(conn, SOURCE, state.cursor())
            raise SyncError(
                f"arXiv OAI-PMH refused the resumption token of page {number} ({error}): it "
                "expired or the repository restarted. The stored position was dropped: run "
                f"the harvest again to start it over (the {state.records} records stored "
                "so far stay)."
            ) from error
        raise SyncError(f"arXiv OAI-PMH refused the request for page {number}: {error}") from error


def _count(report: SyncReport, page: OaiPage, summary: ImportSummary) -> None:
    report.pages += 1
    report.fetched += len(page.records)
    report.inserted += summary.papers_inserted
    report.updated += summary.papers_updated
    report.unchanged += summary.papers_unchanged
    report.skipped += len(summary.errors)
    report.errors.extend(str(error) for error in summary.errors)


def _day(value: object) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


class HarvestState:
    """The harvest's position: what the ``oai`` cursor holds after each page."""

    def __init__(self, request: dict[str, Any], from_used: str | None) -> None:
        self.request = request  # the arguments asked for: same ones resume
        self.from_used = from_used  # ``from`` sent: asked for, or the incremental default
        self.token: str | None = None
        self.pages = 0
        self.records = 0
        self.finished = False
        self.complete_list_size: int | None = None
        self.response_date: str | None = None  # the repository's date on the first page
        self.harvested: dict[str, str] = {}  # set -> responseDate of its last full harvest

    @classmethod
    def make(
        cls, stored: dict[str, Any], request: dict[str, Any], incremental: bool
    ) -> HarvestState:
        harvested = stored.get("harvested")
        harvested = dict(harvested) if isinstance(harvested, dict) else {}
        if stored.get("request") == request and not stored.get("finished") and stored.get("token"):
            state = cls(request, stored.get("from_used"))
            state.token = str(stored["token"])
            state.pages = int(stored.get("pages") or 0)
            state.records = int(stored.get("records") or 0)
            state.complete_list_size = stored.get("complete_list_size")
            state.response_date = stored.get("response_date")
        else:
            since = harvested.get(request["set"]) if incremental else None
            state = cls(request, request["from"] or since)
        state.harvested = harvested
        return state

    def advance(self, page: OaiPage) -> None:
        self.pages += 1
        self.records += len(page.records)
        self.token = page.resumption_token
        if page.complete_list_size is not None:
            self.complete_list_size = page.complete_list_size
        self.finished = self.token is None
        if self.finished and self.response_date and self.request["until"] is None:
            # Only an open-ended harvest covers everything up to the day it began.
            self.harvested[self.request["set"]] = self.response_date

    def kept(self) -> str:
        if not self.pages:
            return ""
        return f"; the {self.pages} page(s) before it are stored and the next run resumes there"

    def cursor(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "from_used": self.from_used,
            "token": self.token,
            "pages": self.pages,
            "records": self.records,
            "complete_list_size": self.complete_list_size,
            "response_date": self.response_date,
            "finished": self.finished,
            "harvested": self.harvested,
        }
