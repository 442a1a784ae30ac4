"""Which period a digest covers, and when it is due."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest

from paperwire.digests.periods import is_due, label, period_covering, period_for
from paperwire.store.subscriptions import Subscription


def at(day: date, hour: int = 9) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def subscription(frequency: str, hour_utc: int = 7) -> Subscription:
    return Subscription(
        id=1,
        email="reader@example.org",
        user_id=None,
        frequency=frequency,
        hour_utc=hour_utc,
        topics={},
        status="active",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_a_weekday_daily_digest_covers_yesterday() -> None:
    period = period_for("daily", at(date(2026, 11, 24)))  # a Tuesday
    assert (period.start, period.end) == (date(2026, 11, 23), date(2026, 11, 23))
    assert period.key == "daily:2026-11-23"
    assert label(period) == "23 Nov 2026"


def test_mondays_daily_digest_covers_friday_to_sunday() -> None:
    period = period_for("daily", at(date(2026, 11, 30)))  # a Monday
    assert (period.start, period.end) == (date(2026, 11, 27), date(2026, 11, 29))
    assert period.key == "daily:2026-11-29"
    assert label(period) == "27–29 Nov 2026"


def test_daily_periods_of_a_weeks_sending_days_tile_without_gaps() -> None:
    monday = date(2026, 11, 30)
    periods = [period_for("daily", at(monday + timedelta(days=i))) for i in range(8)]
    # Monday to Friday, then next Monday
    sent = [p for i, p in enumerate(periods) if (monday + timedelta(days=i)).weekday() < 5]
    assert len(sent) == 6
    for before, after in itertools.pairwise(sent):
        assert after.start == before.end + timedelta(days=1)
    assert len({p.key for p in sent}) == len(sent)


@pytest.mark.parametrize("day", [date(2026, 11, 28), date(2026, 11, 29)])
def test_nothing_daily_is_due_on_weekends(day: date) -> None:
    assert day.weekday() >= 5
    for hour in (0, 7, 23):
        assert not is_due(subscription("daily"), at(day, hour), None)
    # the preview still has a period: the one Monday's digest covers so far
    period = period_for("daily", at(day))
    assert period.start == date(2026, 11, 27)
    assert period.end == day - timedelta(days=1)


def test_daily_due_from_the_subscribers_hour_until_sent() -> None:
    tuesday = date(2026, 11, 24)
    daily = subscription("daily", hour_utc=7)
    assert not is_due(daily, at(tuesday, 6), None)
    assert is_due(daily, at(tuesday, 7), None)
    assert is_due(daily, at(tuesday, 23), "daily:2026-11-20")
    assert not is_due(daily, at(tuesday, 8), "daily:2026-11-23")  # already sent
    assert is_due(daily, at(tuesday + timedelta(days=1), 7), "daily:2026-11-23")


def test_weekly_covers_the_previous_iso_week_whichever_day() -> None:
    keys = set()
    for offset in range(7):
        now = at(date(2026, 11, 30) + timedelta(days=offset))
        period = period_for("weekly", now)
        assert (period.start, period.end) == (date(2026, 11, 23), date(2026, 11, 29))
        keys.add(period.key)
    assert keys == {"weekly:2026-W48"}


@pytest.mark.parametrize(
    ("monday", "key", "start", "end"),
    [
        # 2026 has 53 ISO weeks: its last runs into 2027 and keeps 2026's year
        (date(2027, 1, 4), "weekly:2026-W53", date(2026, 12, 28), date(2027, 1, 3)),
        # the week holding 1 January 2026 is ISO 2026's first
        (date(2026, 1, 5), "weekly:2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        (date(2025, 12, 29), "weekly:2025-W52", date(2025, 12, 22), date(2025, 12, 28)),
    ],
)
def test_weekly_keys_at_the_year_end(monday: date, key: str, start: date, end: date) -> None:
    period = period_for("weekly", at(monday))
    assert (period.key, period.start, period.end) == (key, start, end)
    assert start.weekday() == 0
    assert end.weekday() == 6


def test_no_week_is_keyed_twice_over_years() -> None:
    day, seen = date(2024, 12, 30), {}
    while day < date(2028, 1, 10):
        period = period_for("weekly", at(day))
        seen.setdefault(period.key, set()).add(period.start)
        day += timedelta(days=1)
    assert all(len(starts) == 1 for starts in seen.values())
    assert len(seen) == len({s for starts in seen.values() for s in starts})


def test_daily_across_the_year_end() -> None:
    period = period_for("daily", at(date(2027, 1, 1)))  # a Friday
    assert period.key == "daily:2026-12-31"
    monday = period_for("daily", at(date(2027, 1, 4)))
    assert (monday.start, monday.end) == (date(2027, 1, 1), date(2027, 1, 3))


def test_weekly_due_from_mondays_hour_and_caught_up_later_in_the_week() -> None:
    weekly = subscription("weekly", hour_utc=8)
    monday = date(2026, 11, 30)
    assert not is_due(weekly, at(monday, 7), "weekly:2026-W47")
    assert is_due(weekly, at(monday, 8), "weekly:2026-W47")
    assert is_due(weekly, at(monday + timedelta(days=3), 1), "weekly:2026-W47")
    assert not is_due(weekly, at(monday + timedelta(days=3), 9), "weekly:2026-W48")


def test_period_covering_holds_the_day() -> None:
    for day in (date(2026, 8, 21), date(2026, 8, 17), date(2026, 8, 23), date(2026, 1, 1)):
        for frequency in ("daily", "weekly"):
            period = period_covering(frequency, day)
            assert period.start <= day <= period.end, (frequency, day, period)


def test_unknown_frequency_is_refused() -> None:
    with pytest.raises(ValueError, match="daily or weekly"):
        period_for("hourly", at(date(2026, 11, 24)))
