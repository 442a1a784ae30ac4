"""A per-process cache of rendered responses, keyed on the database's content version.

Lists and paper pages change only when data is written, and every such write raises
``content_version`` in the same transaction (see :mod:`paperwire.store.state`). A request
reads that one counter and, when the page was rendered at the same version, answers from
memory; several web processes each keep their own cache and stay correct, because the
version lives in the database. Clients get an ``ETag`` and a ``304`` when unchanged.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import Connection

from paperwire.store.state import content_version
from paperwire.web.auth import SESSION_COOKIE

DEFAULT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CachedResponse:
    body: bytes
    media_type: str
    etag: str


class ResponseCache:
    """A thread-safe LRU of response bodies, bounded by their total size."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self._items: OrderedDict[tuple[object, ...], CachedResponse] = OrderedDict()
        self._bytes = 0
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self._building: dict[tuple[object, ...], threading.Lock] = {}

    def building(self, key: tuple[object, ...]) -> threading.Lock:
        """One lock per key being rendered, so that a burst of misses renders it once."""
        with self._lock:
            return self._building.setdefault(key, threading.Lock())

    def built(self, key: tuple[object, ...]) -> None:
        with self._lock:
            self._building.pop(key, None)

    def get(self, key: tuple[object, ...]) -> CachedResponse | None:
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: tuple[object, ...], item: CachedResponse) -> None:
        if len(item.body) > self._max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= len(old.body)
            self._items[key] = item
            self._bytes += len(item.body)
            while self._bytes > self._max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._bytes -= len(evicted.body)


def cached(request: Request, conn: Connection, build: Callable[[], Response]) -> Response:
    """Answer from the cache when the data has not changed since ``build`` last ran.

    Only 200 responses to anonymous requests are kept. The key holds the path, the query,
    the content version and today's date (the home page and "latest" lists depend on the
    calendar too).
    """
    if SESSION_COOKIE in request.cookies or "authorization" in request.headers:
        # a signed-in viewer's page shows their own state (votes, forms): never shared
        return build()
    cache: ResponseCache = request.app.state.response_cache
    key = (request.url.path, request.url.query, content_version(conn), datetime.now(UTC).date())
    item = cache.get(key)
    if item is None:
        with cache.building(key):
            item = cache.get(key)  # rendered by another request while this one waited
            if item is None:
                try:
                    response = build()
                    if response.status_code != 200:
                        return response
                    body = bytes(response.body)
                    etag = f'W/"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
                    item = CachedResponse(body, response.media_type or "text/html", etag)
                    cache.put(key, item)
                finally:
                    cache.built(key)
    if request.headers.get("if-none-match") == item.etag:
        return Response(status_code=304, headers={"ETag": item.etag})
    return Response(item.body, media_type=item.media_type, headers={"ETag": item.etag})
