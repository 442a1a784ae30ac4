"""Rate-limit rules and counters, against a real database."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, func, select

from paperwire import ratelimit
from paperwire.errors import RateLimited
from paperwire.ratelimit import Rule
from paperwire.store.schema import rate_limits


def test_rules_parse_and_bad_rules_say_what_is_expected() -> None:
    assert Rule.parse("10/minute") == Rule(10, 60)
    assert Rule.parse(" 3 / hours ") == Rule(3, 3600)
    with pytest.raises(ValueError, match="COUNT/PERIOD"):
        Rule.parse("ten per minute")


def test_the_limit_refuses_once_spent_with_retry_after(engine: Engine) -> None:
    for _ in range(3):
        ratelimit.check(engine, "vote", [("3/hour", "user:1")])
    with pytest.raises(RateLimited) as refused:
        ratelimit.check(engine, "vote", [("3/hour", "user:1")])
    assert 1 <= refused.value.retry_after <= 3600
    ratelimit.check(engine, "vote", [("3/hour", "user:2")])  # another subject is untouched


def test_disabled_limits_count_nothing(engine: Engine) -> None:
    for _ in range(5):
        ratelimit.check(engine, "vote", [("1/hour", "user:1")], enabled=False)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(rate_limits)).scalar_one() == 0


def test_concurrent_hits_are_all_counted(engine: Engine) -> None:
    refused = []

    def hit() -> None:
        for _ in range(10):
            try:
                ratelimit.check(engine, "login", [("1000/hour", "ip:127.0.0.1")])
            except RateLimited:
                refused.append(1)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as conn:
        hits = conn.execute(select(func.sum(rate_limits.c.hits))).scalar_one()
    assert hits == 80
    assert refused == []


def test_subjects_with_nul_and_long_names_are_counted(engine: Engine) -> None:
    """Log-in names are user input: a NUL (which PostgreSQL text refuses) or a very long
    name still counts, under a key the database can store."""
    hostile = "login:ada\x00" + "x" * 500
    for _ in range(2):
        ratelimit.check(engine, "log-in", [("2/hour", hostile)])
    with pytest.raises(RateLimited):
        ratelimit.check(engine, "log-in", [("2/hour", hostile)])
    with engine.connect() as conn:
        keys = conn.execute(select(rate_limits.c.key)).scalars().all()
    assert all("\x00" not in key and len(key) <= 200 for key in keys)
