"""build_context(settings): the one place where engines and other resources are created."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from paperwire.config import Settings
from paperwire.search.resources import SearchResources
from paperwire.store.db import make_engine


@dataclass(slots=True)
class Context:
    settings: Settings
    engine: Engine
    search: SearchResources  # opened lazily: indexes on first search, the model on first use

    def close(self) -> None:
        self.engine.dispose()


def build_context(settings: Settings) -> Context:
    return Context(
        settings=settings, engine=make_engine(settings), search=SearchResources(settings)
    )
