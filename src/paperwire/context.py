"""build_context(settings): the one place where engines and other resources are created."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.email.sender import Mailer, make_mailer
from paperwire.ingest.arxiv_api import ArxivClient
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

        One per process, so that its request spacing holds for every thread; the lock
        keeps two first uses at once from making two.
        """
        with self._lock:
            if self._arxiv is None:
                self._arxiv = ArxivClient.from_settings(self.settings)
            return self._arxiv

    def close(self) -> None:
        with self._lock:
            if self._arxiv is not None:
                self._arxiv.close()
                self._arxiv = None
        self.engine.dispose()


def build_context(settings: Settings) -> Context:
    return Context(
        settings=settings,
        engine=make_engine(settings),
        search=SearchResources(settings),
        mailer=make_mailer(settings),
    )
