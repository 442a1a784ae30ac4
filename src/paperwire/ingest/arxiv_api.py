"""An HTTP client for the arXiv API (``export.arxiv.org/api/query``): fetch only, no storing.

arXiv asks API users for no more than one request every three seconds and a descriptive
User-Agent (https://info.arxiv.org/help/api/tou.html). Each request, retries included,
first waits for its turn from a :class:`Spacing`: by default one kept in this object
(every thread of a process shares the context's one client), and, as the context builds
it, one kept in the database (:mod:`paperwire.pacing`), so that several web processes
and workers together still ask arXiv once per interval.

Failures are bounded: a 5xx, a 429, a timeout or a dropped connection is retried at most
``retries`` times with exponential backoff (longer when arXiv sends ``Retry-After``, in
seconds or as an HTTP date; one asking for more than a minute ends the call at once);
then, like any other bad answer (a 4xx, a body that is not an Atom feed), it raises
:class:`~paperwire.errors.UpstreamError` with a message for the user. An id arXiv does
not know is :class:`~paperwire.errors.NotFound`.

:meth:`ArxivClient.query` takes any API parameters (``search_query``, ``id_list``,
``start``, ``max_results``, ``sortBy``...), so category harvests reuse the client;
:meth:`ArxivClient.fetch_ids` fetches papers by id. The spacing, retries and User-Agent
live in :class:`PoliteHttp`, which the OAI-PMH harvester uses too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Protocol

import httpx

from paperwire import __version__
from paperwire.config import Settings
from paperwire.errors import NotFound, UpstreamError
from paperwire.ingest.arxiv_atom import ArxivApiError, AtomPage, parse_atom_feed
from paperwire.ingest.xmltree import XmlSyntaxError
from paperwire.models import PaperRecord, ParsedRecord, RecordError

__all__ = [
    "ArxivClient",
    "ArxivRejected",
    "LocalSpacing",
    "PoliteHttp",
    "Spacing",
    "retry_after_seconds",
    "user_agent",
]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_IDS_PER_REQUEST = 100  # keeps the URL short; arXiv pages results anyway
MAX_RETRY_AFTER_S = 60.0  # a longer Retry-After ends the call (see PoliteHttp)
_ERROR_ENTRY = b"arxiv.org/api/errors"


class ArxivRejected(UpstreamError):
    """The API answered with an error entry (e.g. "incorrect id format for ...")."""


def user_agent(base_url: str) -> str:
    return f"paperwire/{__version__} (+{base_url})"


class Spacing(Protocol):
    """Who decides when a request may start: request starts stay an interval apart."""

    def wait_s(self, after_s: float = 0.0) -> float:
        """Give one request its turn, ``after_s`` from now or later: the seconds the
        caller must still sleep before sending (an implementation may sleep itself)."""
        ...


class LocalSpacing:
    """Spacing within one process: every thread using this object reserves its slot here."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._lock = threading.Lock()
        self._next_at = 0.0  # time.monotonic() of the next free request slot

    def wait_s(self, after_s: float = 0.0) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(now + after_s, self._next_at)
            self._next_at = start + self.interval_s
        return start - now


class PoliteHttp:
    """GETs to one service, politely: spaced, one connection, bounded retries.

    Shared by the arXiv API client and the OAI-PMH harvester (``sync/oai_client.py``).
    Each request, retries included, first reserves the next free slot, so request starts
    stay ``interval_s`` apart for every thread using this object (or, with a shared
    ``spacing``, for every process using the same database). Transient failures (a
    5xx, a 429, a timeout, a dropped connection) are retried at most ``retries`` times,
    waiting ``backoff_s``, then twice that, four times... or what ``Retry-After`` asks
    when that is longer. A ``Retry-After`` beyond ``max_retry_after_s`` is not waited
    for inside one call: it raises at once, so that a caller holding a lease (the worker)
    is not stuck for many minutes, and the source is not asked again before it said.
    ``service`` names the source in messages ("The arXiv API", "arXiv OAI-PMH").
    """

    def __init__(
        self,
        service: str,
        *,
        agent: str,
        accept: str,
        interval_s: float = 3.0,
        timeout_s: float = 20.0,
        retries: int = 3,
        backoff_s: float | None = None,
        max_retry_after_s: float = MAX_RETRY_AFTER_S,
        transport: httpx.BaseTransport | None = None,
        spacing: Spacing | None = None,
    ) -> None:
        self.service = service
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.retries = retries
        # Retries wait the interval, then twice that, four times... (a second if no interval).
        if backoff_s is None:
            backoff_s = interval_s if interval_s > 0 else 1.0
        self.backoff_s = backoff_s
        self.max_retry_after_s = max_retry_after_s
        self._http = httpx.Client(
            headers={"User-Agent": agent, "Accept": accept},
            timeout=timeout_s,
            transport=transport,
            follow_redirects=True,
            # One connection per service, as arXiv asks of harvesters.
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        self.spacing = spacing if spacing is not None else LocalSpacing(interval_s)

    def close(self) -> None:
        self._http.close()

    def _wait_turn(self, after_s: float = 0.0) -> None:
        """Sleep until this thread's reserved slot, ``after_s`` from now or later: request
        starts stay ``interval_s`` apart."""
        wait = self.spacing.wait_s(after_s)
        if wait > 0:
            time.sleep(wait)

    def get(
        self,
        url: str,
        params: Mapping[str, str | int],
        *,
        waiting: Callable[[], None] | None = None,
    ) -> bytes:
        """The body of a 200 answer, after at most ``retries`` retries of transient failures.

        ``waiting`` is called before each wait for a retry (the worker extends its lease).
        Raises :class:`UpstreamError` with a message for the user when it gives up.
        """
        attempts = self.retries + 1
        problem = "did not answer"
        service = f"{self.service} ({url})"  # the operator sees which address failed
        backoff = 0.0
        for attempt in range(attempts):
            # a retry's backoff is reserved with its turn: one wait, not one after the other
            self._wait_turn(backoff)
            retry_after = 0.0
            try:
                response = self._http.get(url, params=dict(params))
            except httpx.TimeoutException:
                problem = f"did not answer within {self.timeout_s:g} s"
            except httpx.TransportError as error:
                problem = f"could not be reached ({type(error).__name__})"
            else:
                if response.status_code == 200:
                    return response.content
                if response.status_code not in RETRY_STATUSES:
                    raise UpstreamError(
                        f"{service} refused the request (HTTP {response.status_code})."
                    )
                problem = f"answered HTTP {response.status_code}"
                retry_after = retry_after_seconds(response.headers.get("retry-after", ""))
                if retry_after > self.max_retry_after_s:
                    raise UpstreamError(
                        f"{service} {problem} and asked to wait {retry_after:.0f} s "
                        "before asking again; please try again later."
                    )
            if attempt + 1 < attempts:
                if waiting is not None:
                    waiting()
                backoff = max(self.backoff_s * 2**attempt, retry_after)
        tries = f"{attempts} tr{'y' if attempts == 1 else 'ies'}"
        raise UpstreamError(f"{service} {problem} ({tries}); please try again later.")


class ArxivClient:
    def __init__(
        self,
        api_url: str,
        *,
        agent: str,
        interval_s: float = 3.0,
        timeout_s: float = 20.0,
        retries: int = 3,
        backoff_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
        spacing: Spacing | None = None,
    ) -> None:
        self.api_url = api_url
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        self.retries = retries
        self.http = PoliteHttp(
            "The arXiv API",
            agent=agent,
            accept="application/atom+xml",
            interval_s=interval_s,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            transport=transport,
            spacing=spacing,
        )

    @classmethod
    def from_settings(cls, settings: Settings, spacing: Spacing | None = None) -> ArxivClient:
        return cls(
            settings.arxiv_api_url,
            agent=user_agent(settings.base_url),
            interval_s=settings.arxiv_request_interval_s,
            timeout_s=settings.arxiv_timeout_s,
            retries=settings.arxiv_retries,
            spacing=spacing,
        )

    def close(self) -> None:
        self.http.close()

    # --- requests ---------------------------------------------------------------------

    def _get(
        self, params: Mapping[str, str | int], waiting: Callable[[], None] | None = None
    ) -> bytes:
        return self.http.get(self.api_url, params, waiting=waiting)

    def query(
        self, params: Mapping[str, str | int], *, waiting: Callable[[], None] | None = None
    ) -> AtomPage:
        """One API request with these parameters, parsed (bad entries are RecordErrors).

        ``waiting`` is called before each wait for a retry (see :meth:`PoliteHttp.get`).
        """
        body = self._get(params, waiting)
        try:
            return parse_atom_feed(body, self.api_url)
        except XmlSyntaxError as error:
            raise UpstreamError(
                f"The arXiv API answered something that is not an Atom feed ({error})."
            ) from error
        except ArxivApiError as error:
            if _ERROR_ENTRY in body:
                raise ArxivRejected(str(error)) from error
            raise UpstreamError(
                f"The arXiv API answered an unexpected document: {error}"
            ) from error

    def fetch_ids(self, ids: Sequence[str]) -> dict[str, PaperRecord]:
        """The papers with these ids (without version: the latest), keyed by id.

        Ids arXiv does not know are absent from the result; an id it calls malformed
        raises :class:`NotFound`.
        """
        wanted = list(dict.fromkeys(ids))
        found: dict[str, PaperRecord] = {}
        for start in range(0, len(wanted), MAX_IDS_PER_REQUEST):
            part = wanted[start : start + MAX_IDS_PER_REQUEST]
            try:
                page = self.query({"id_list": ",".join(part), "max_results": len(part)})
            except ArxivRejected as error:
                raise NotFound(f"arXiv does not know {', '.join(part)[:200]}: {error}") from error
            unreadable = [r for r in page.records if isinstance(r, RecordError)]
            for record in page.records:
                if isinstance(record, ParsedRecord) and record.paper.id in part:
                    found[record.paper.id] = record.paper
            if unreadable and any(pid not in found for pid in part):
                raise UpstreamError(
                    f"arXiv's record could not be read: {unreadable[0].message}"[:300]
                )
        return found

    def fetch(self, arxiv_id: str) -> PaperRecord:
        """One paper by id; :class:`NotFound` when arXiv has no such paper."""
        record = self.fetch_ids([arxiv_id]).get(arxiv_id)
        if record is None:
            raise NotFound(f"arXiv has no paper {arxiv_id}.")
        return record


def retry_after_seconds(value: str, now: datetime | None = None) -> float:
    """Seconds a ``Retry-After`` header asks for: a number, or an HTTP date (RFC 9110)."""
    value = value.strip()
    if not value:
        return 0.0
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return 0.0  # unreadable: fall back on the backoff
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(seconds, 0.0)
