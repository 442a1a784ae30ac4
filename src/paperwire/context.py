"""build_context(settings): the one place where engines and other resources are created."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.email.sender import Mailer, make_mailer
from paperwire.ingest.arxiv_api import ArxivClient
from paperwire.pacing import SharedSpacing
from paperwire.search.resources import SearchResources
from paperwire.store.db import make_engine


@dataclass(slots=True)
class Context:
    settings: Settings
    engine: Engine
    search: SearchResources  # opened lazily: indexes on first search, the model on first use
    mailer: Mailer  # SMTP when PAPERWIRE_SMTP_HOST is set, else the log
    _arxiv: ArxivClient | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def arxiv(self) -> ArxivClient:
        """The process's one arXiv API client, made on first use.

        Its request spacing lives in the database, so it holds for every thread of every
        web process and worker together (see :mod:`paperwire.pacing`); the lock keeps two
        first uses at once from making two clients.
        """
        with self._lock:
            if self._arxiv is None:
                self._arxiv = ArxivClient.from_settings(
                    self.settings, spacing=self.shared_spacing(self.settings.arxiv_api_url)
                )
            return self._arxiv

    def shared_spacing(self, url: str, interval_s: float | None = None) -> SharedSpacing:
        """Request spacing for ``url``'s host, shared by every process on this database
        (``interval_s`` defaults to arXiv's, ``arxiv_request_interval_s``)."""
        if interval_s is None:
            interval_s = self.settings.arxiv_request_interval_s
        return SharedSpacing(self.engine, url, interval_s)

    def close(self) -> None:
        with self._lock:
            if self._arxiv is not None:
                self._arxiv.close()
                self._arxiv = None
        self.engine.dispose()


def build_context(settings: Settings) -> Context:
    engine = make_engine(settings)
    return Context(
        settings=settings,
        engine=engine,
        search=SearchResources(settings, engine),
        mailer=make_mailer(settings),
    )
