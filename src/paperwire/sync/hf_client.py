"""An HTTP client for Hugging Face's daily papers list: fetch only, no parsing or storing.

``GET {hf_api_url}/api/daily_papers?date=YYYY-MM-DD`` answers the list of papers featured
on that day. The requests go through the same :class:`~paperwire.ingest.arxiv_api.
PoliteHttp` as arXiv's: spaced ``hf_request_interval_s`` apart, one connection, a
``User-Agent`` naming paperwire, and at most ``retries`` retries of a 5xx, a 429 (its
``Retry-After`` honoured), a timeout or a dropped connection, with exponential backoff.
What still fails raises :class:`~paperwire.sync.report.SyncError` with a one-line
message naming the source and the URL: what an operator needs on the admin page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import TracebackType

import httpx

from paperwire.config import Settings
from paperwire.errors import UpstreamError
from paperwire.ingest.arxiv_api import PoliteHttp, Spacing, user_agent
from paperwire.sync.report import SyncError

__all__ = ["SOURCE_LABEL", "HfClient"]

SOURCE_LABEL = "Hugging Face daily papers"


class HfClient:
    def __init__(
        self,
        api_url: str,
        *,
        agent: str,
        interval_s: float = 1.0,
        timeout_s: float = 20.0,
        retries: int = 3,
        backoff_s: float | None = None,
        transport: httpx.BaseTransport | None = None,
        spacing: Spacing | None = None,
    ) -> None:
        self.endpoint = api_url.rstrip("/") + "/api/daily_papers"
        self.http = PoliteHttp(
            SOURCE_LABEL,
            agent=agent,
            accept="application/json",
            interval_s=interval_s,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            transport=transport,
            spacing=spacing,
        )

    @classmethod
    def from_settings(cls, settings: Settings, spacing: Spacing | None = None) -> HfClient:
        # Timeout and retry budget are the arXiv client's settings: one network policy
        # for every source until an operator needs them apart.
        return cls(
            settings.hf_api_url,
            agent=user_agent(settings.base_url),
            interval_s=settings.hf_request_interval_s,
            timeout_s=settings.arxiv_timeout_s,
            retries=settings.arxiv_retries,
            spacing=spacing,
        )

    def __enter__(self) -> HfClient:
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def url_for(self, day: date) -> str:
        return f"{self.endpoint}?date={day.isoformat()}"

    def daily_papers(self, day: date, *, waiting: Callable[[], None] | None = None) -> bytes:
        """The body of the 200 answer for ``day``; :class:`SyncError` when there is none.

        ``waiting`` is called before each wait for a retry (the worker extends its lease).
        """
        try:
            return self.http.get(self.endpoint, {"date": day.isoformat()}, waiting=waiting)
        except UpstreamError as error:
            raise SyncError(_naming_url(error.message, self.endpoint, self.url_for(day))) from error


def _naming_url(message: str, endpoint: str, url: str) -> str:
    """The message, naming the URL asked: ``"<source> at <url> could not be reached..."``."""
    message = " ".join(message.split())  # one line, whatever the server sent
    if url in message:
        return message
    if endpoint in message:  # the shared client named the endpoint: add the day's query
        return message.replace(endpoint, url, 1)
    if message.startswith(SOURCE_LABEL):
        return f"{SOURCE_LABEL} at {url}{message.removeprefix(SOURCE_LABEL)}"
    return f"{SOURCE_LABEL} at {url}: {message}"
