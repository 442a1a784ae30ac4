"""Which featured days a digest covers, and when it is due (pure: no database, no clock).

Daily digests are sent on weekdays only (Monday to Friday, UTC). Each covers the featured
days since the previous sending day, up to yesterday: Tuesday's covers Monday, Monday's
covers Friday to Sunday (so a paper featured over the weekend is not lost). On Saturday
and Sunday **nothing is due**; ``period_for`` then answers the period Monday's digest
will cover so far (what the preview shows). The key is ``daily:`` and the last day
covered: ``daily:2026-11-29`` for Monday 30 Nov 2026's digest.

Weekly digests cover the previous ISO week (Monday to Sunday) and are keyed by it,
``weekly:2026-W47``: the ISO year is used, so the week holding 1 January is keyed once.
They are due from Monday at the subscriber's hour; a sender that was down on Monday
still sends later that week, since the key stays the same until the next Monday.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from paperwire.digests.compose import DigestPeriod
from paperwire.store.subscriptions import Subscription

FREQUENCIES = ("daily", "weekly")
FRIDAY = 4


def _check(frequency: str) -> None:
    if frequency not in FREQUENCIES:
        raise ValueError(f"frequency must be daily or weekly, not {frequency!r}")


def period_for(frequency: str, now: datetime) -> DigestPeriod:
    """The period a digest of ``frequency`` sent at ``now`` (UTC) covers."""
    _check(frequency)
    today = now.date()
    if frequency == "daily":
        end = today - timedelta(days=1)
        start = end
        while start.weekday() > FRIDAY:  # back to the latest weekday
            start -= timedelta(days=1)
        return DigestPeriod("daily", f"daily:{end.isoformat()}", start, end)
    start = today - timedelta(days=today.weekday() + 7)  # the previous week's Monday
    year, week, _ = start.isocalendar()
    return DigestPeriod("weekly", f"weekly:{year}-W{week:02d}", start, start + timedelta(days=6))


def period_covering(frequency: str, day: date) -> DigestPeriod:
    """The period of ``frequency`` that holds ``day`` (for previews of a stale instance)."""
    _check(frequency)
    ahead = 1 if frequency == "daily" else 7
    return period_for(frequency, datetime.combine(day + timedelta(days=ahead), datetime.min.time()))


def is_sending_day(frequency: str, now: datetime) -> bool:
    """Daily digests go out on weekdays; weekly ones any day once the week has begun."""
    _check(frequency)
    return frequency == "weekly" or now.weekday() <= FRIDAY


def is_due(subscription: Subscription, now: datetime, last_key: str | None) -> bool:
    """Whether ``subscription``'s digest should be composed now.

    Due when today is a sending day, the subscriber's ``hour_utc`` has come (for weekly
    digests: Monday's hour has come this week) and the period's key differs from
    ``last_key``, the key of the last digest sent (None when none was).
    """
    frequency = subscription.frequency
    if not is_sending_day(frequency, now):
        return False
    if frequency == "weekly":
        hours_into_week = now.weekday() * 24 + now.hour
        if hours_into_week < subscription.hour_utc:
            return False
    elif now.hour < subscription.hour_utc:
        return False
    return period_for(frequency, now).key != last_key


def label(period: DigestPeriod) -> str:
    """How a subject names the period: "26 Nov 2025", "21–23 Nov 2025", "week 48 of 2025"."""
    if period.frequency == "weekly":
        year, week, _ = period.start.isocalendar()
        return f"week {week} of {year} ({_range(period.start, period.end)})"
    return _range(period.start, period.end)


def _range(start: date, end: date) -> str:
    if start == end:
        return f"{end.day} {end:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"
