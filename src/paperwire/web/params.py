"""What pages, the API and feeds share: which period a list covers, today's trending list."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import HTTPException
from sqlalchemy import Connection

from paperwire.config import Settings
from paperwire.feed import service as feed_service
from paperwire.feed.periods import Period, PeriodError, parse_day, parse_month, parse_week


def period_from_query(
    conn: Connection, date: str | None, week: str | None, month: str | None
) -> Period:
    """The period named by at most one of ``date``/``week``/``month``; the latest day if none.

    Bad values are the client's error: 422 with the reason.
    """
    given = [
        (parse, value)
        for parse, value in ((parse_day, date), (parse_week, week), (parse_month, month))
        if value is not None
    ]
    if len(given) > 1:
        raise HTTPException(422, "give only one of date, week and month")
    if not given:
        return feed_service.latest_period(conn, "day", datetime.now(UTC).date())
    parse, value = given[0]
    try:
        return parse(value)
    except PeriodError as error:
        raise HTTPException(422, str(error)) from error


def trending_today(conn: Connection, settings: Settings, limit: int) -> feed_service.TrendingPage:
    """The trending list as configured, as of today."""
    return feed_service.trending(
        conn,
        today=datetime.now(UTC).date(),
        window_days=settings.trending_window_days,
        gravity=settings.trending_gravity,
        limit=limit,
    )
