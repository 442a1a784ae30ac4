"""At most so many requests inside the app at once; the rest wait at the door.

On PostgreSQL every database connection is a server process, and the server refuses
connections past its ``max_connections`` ("too many clients": a 500 for the request).
The engine's pool cannot simply be bounded instead: a request takes its connection in
one thread and needs another thread for its endpoint, so a bounded pool deadlocks
FastAPI's thread pool under load (fastapi#3205). Bounding the requests in flight bounds
the connections they hold, and a request that waits here holds none.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

# A request holds up to this many connections at once: its own, the search service's,
# the keyword index's and the semantic half's.
CONNECTIONS_PER_REQUEST = 4


class ConcurrencyLimit:
    def __init__(self, app: ASGIApp, database_connections: int) -> None:
        self.app = app
        self.limit = max(1, database_connections // CONNECTIONS_PER_REQUEST)
        self._slots: asyncio.Semaphore | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._slots is None:  # made inside the server's event loop
            self._slots = asyncio.Semaphore(self.limit)
        async with self._slots:
            await self.app(scope, receive, send)
