"""Request dependencies: the context built once per app, a connection per request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Connection

from paperwire.context import Context


def get_context(request: Request) -> Context:
    context: Context = request.app.state.context
    return context


def get_conn(request: Request) -> Iterator[Connection]:
    with get_context(request).engine.connect() as conn:
        yield conn


ContextDep = Annotated[Context, Depends(get_context)]
ConnDep = Annotated[Connection, Depends(get_conn)]
