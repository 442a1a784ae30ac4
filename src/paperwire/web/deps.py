"""Request dependencies: the context built once per app, a connection per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from paperwire.context import Context


async def get_context(request: Request) -> Context:
    # async: no I/O here, so no hop through the thread pool
    context: Context = request.app.state.context
    return context


def get_conn(request: Request) -> Iterator[Connection]:
    # Runs in the thread pool before the endpoint (which needs a thread of its own), so
    # the engine's pool must never make it wait: see make_engine.
    context: Context = request.app.state.context
    with context.engine.connect() as conn:
        yield conn


ContextDep = Annotated[Context, Depends(get_context)]
ConnDep = Annotated[Connection, Depends(get_conn)]
