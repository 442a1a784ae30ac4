"""Request spacing shared by every process through the database.

arXiv asks one *client* for at most one request every three seconds; with several web
processes and workers, a spacing kept in each process would multiply that. So a request
takes its turn in the database: in one short transaction (see
:func:`paperwire.store.rate_limits.take_turn`) it either records its start, now, when
the last start for the same host is an interval old, or learns when that will be, sleeps
until then (holding nothing) and asks again. Starts are recorded as they happen, not
reserved ahead, so a late wake-up can only lengthen the spacing, never shorten it.

Waiting requests keep no place in a line: when several wake for the same turn, one takes
it and the others wait for the next (each gets a turn within as many intervals as there
are requests waiting). Starts are rows of the ``rate_limits`` table keyed
``pace:<host>:<start>`` (no action of the rate limiter is called ``pace``), one per
request, forgotten a day later. They are wall-clock times: hosts that share a database
must keep their clocks in step (NTP does); a skew between two hosts shortens their
spacing by as much.
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from sqlalchemy import Engine

from paperwire.errors import UpstreamError
from paperwire.store import rate_limits as store

MAX_HOST_CHARS = 150  # keys are at most 200 characters
MAX_TRIES = 1000  # turns a request waits for before giving up (50 minutes at arXiv's 3 s)


class SharedSpacing:
    """A :class:`~paperwire.ingest.arxiv_api.Spacing` kept in the database, per host of
    ``url``: every process that asks that host takes its turns from the same record."""

    def __init__(self, engine: Engine, url: str, interval_s: float) -> None:
        self.engine = engine
        self.host = (urlsplit(url).netloc or url)[:MAX_HOST_CHARS]
        self.interval_s = interval_s

    def wait_s(self, after_s: float = 0.0) -> float:
        """Wait ``after_s``, then until this request's turn, and take it: the caller
        sends at once (0 left to wait)."""
        if after_s > 0:
            time.sleep(after_s)
        if self.interval_s <= 0:
            return 0.0
        interval_us = round(self.interval_s * 10**6)
        for _ in range(MAX_TRIES):
            with self.engine.begin() as conn:
                turn_us = store.take_turn(conn, f"pace:{self.host}:", interval_us)
            if turn_us is None:
                return 0.0
            time.sleep(max(0.0, turn_us / 10**6 - time.time()))
        raise UpstreamError(
            f"Too many requests to {self.host} are waiting for their turn; please try again later."
        )
