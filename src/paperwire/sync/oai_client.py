"""An HTTP client for arXiv's OAI-PMH endpoint (``ListRecords``): fetch only, no parsing.

It asks politely like the arXiv API client (the same :class:`PoliteHttp`: one request
per ``arxiv_request_interval_s``, one connection, a User-Agent naming paperwire,
bounded retries with exponential backoff on 5xx and timeouts). OAI-PMH repositories do
flow control with ``503`` and ``Retry-After`` (arXiv's does): the wait asked for is
honoured, up to a cap; a longer one ends the call with a clear error, and the harvest
resumes from its stored token the next time.

The bodies are returned unparsed so that the harvester can name the page a bad answer
came with (and the benchmark can time fetching, parsing and storing apart).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from paperwire.config import Settings
from paperwire.ingest.arxiv_api import MAX_RETRY_AFTER_S, PoliteHttp, Spacing, user_agent

METADATA_PREFIX = "arXivRaw"  # the richest arXiv format: every version with its date


class OaiClient:
    def __init__(
        self,
        base_url: str,
        *,
        agent: str,
        interval_s: float = 3.0,
        timeout_s: float = 20.0,
        retries: int = 3,
        backoff_s: float | None = None,
        max_retry_after_s: float = MAX_RETRY_AFTER_S,
        spacing: Spacing | None = None,
    ) -> None:
        self.base_url = base_url
        self.http = PoliteHttp(
            "arXiv OAI-PMH",
            agent=agent,
            accept="text/xml, application/xml",
            interval_s=interval_s,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            max_retry_after_s=max_retry_after_s,
            spacing=spacing,
        )

    @classmethod
    def from_settings(cls, settings: Settings, spacing: Spacing | None = None) -> OaiClient:
        return cls(
            settings.arxiv_oai_url,
            agent=user_agent(settings.base_url),
            interval_s=settings.arxiv_request_interval_s,
            timeout_s=settings.arxiv_timeout_s,
            retries=settings.arxiv_retries,
            spacing=spacing,
        )

    def close(self) -> None:
        self.http.close()

    def list_records(
        self,
        *,
        set_spec: str,
        from_: date | None,
        until: date | None,
        waiting: Callable[[], None] | None = None,
    ) -> bytes:
        """The first page of a harvest (``set_spec`` empty: the whole repository)."""
        params: dict[str, str | int] = {"verb": "ListRecords", "metadataPrefix": METADATA_PREFIX}
        if set_spec:
            params["set"] = set_spec
        if from_ is not None:
            params["from"] = from_.isoformat()
        if until is not None:
            params["until"] = until.isoformat()
        return self.http.get(self.base_url, params, waiting=waiting)

    def resume(self, token: str, *, waiting: Callable[[], None] | None = None) -> bytes:
        """The page after the one that gave ``token`` (the token is an exclusive argument)."""
        return self.http.get(
            self.base_url, {"verb": "ListRecords", "resumptionToken": token}, waiting=waiting
        )
