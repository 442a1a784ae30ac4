"""Abuse limits: at most COUNT actions per PERIOD per account and per IP.

Rules come from settings as ``"10/minute"``. Counters live in the database (fixed
windows), so every web process sees the same counts; a refused action raises
:class:`~paperwire.errors.RateLimited` with the seconds until the window ends, which the
web edge answers as ``429`` with ``Retry-After``.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from paperwire.config import RATE_RULE
from paperwire.errors import RateLimited
from paperwire.store import rate_limits as store

PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RULE = RATE_RULE  # one grammar: settings are checked with it at start-up
CLEANUP_CHANCE = 0.01  # now and then, forget windows older than a day


@dataclass(frozen=True, slots=True)
class Rule:
    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str) -> Rule:
        match = RULE.fullmatch(text)
        if not match:
            raise ValueError(f"a rate limit is COUNT/PERIOD, like 10/minute; got {text!r}")
        count = text.partition("/")[0]
        return cls(int(count), PERIODS[match[1]])


def check(
    engine: Engine, action: str, limits: list[tuple[str, str]], *, enabled: bool = True
) -> None:
    """Count one ``action`` against each ``(rule, subject)``; refuse it once any is spent.

    Runs in a transaction of its own, so a refused or failed action still counts (a
    wrong password is exactly what a log-in limit must count).
    """
    if not enabled:
        return
    now = int(time.time())
    refused: int | None = None
    # keys hold user input (a log-in name): no NUL, which PostgreSQL text refuses
    counted = [
        (f"{action}:{subject}".replace("\x00", "\ufffd")[:200], Rule.parse(rule_text))
        for rule_text, subject in limits
    ]
    with engine.begin() as conn:
        # Each upsert locks its row until commit (PostgreSQL): counting the keys in one
        # order means two requests sharing two keys queue instead of deadlocking.
        for key, rule in sorted(counted, key=lambda pair: (pair[0], pair[1].seconds)):
            window = now - now % rule.seconds
            hits = store.add_hit(conn, key, window)
            if hits > rule.count:
                retry_after = max(1, window + rule.seconds - now)
                refused = max(refused or 0, retry_after)
        if random.random() < CLEANUP_CHANCE:
            store.forget_before(conn, now - PERIODS["day"])
    if refused is not None:
        raise RateLimited(
            f"Too many {action} requests; try again in {refused} seconds.", retry_after=refused
        )
