"""Periods a list covers: a day, an ISO week or a month (pure)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

PeriodKind = Literal["day", "week", "month"]

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be read; the message says what was expected."""


@dataclass(frozen=True, slots=True)
class Period:
    kind: PeriodKind
    start: date
    end: date  # inclusive

    @property
    def key(self) -> str:
        """The period as URLs and the API write it: 2025-10-06, 2025-W41, 2025-10."""
        if self.kind == "day":
            return self.start.isoformat()
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{self.start.year}-{self.start.month:02d}"

    @property
    def label(self) -> str:
        if self.kind == "day":
            return self.start.strftime("%A, %-d %B %Y")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week}, {year} ({self.start:%-d %b} – {self.end:%-d %b})"
        return self.start.strftime("%B %Y")

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods later (earlier when negative)."""
        if self.kind == "day":
            return day(self.start + timedelta(days=steps))
        if self.kind == "week":
            return week_of(self.start + timedelta(weeks=steps))
        month_index = self.start.year * 12 + self.start.month - 1 + steps
        return month(month_index // 12, month_index % 12 + 1)

    def contains(self, value: date) -> bool:
        return self.start <= value <= self.end


def day(value: date) -> Period:
    return Period("day", value, value)


def week_of(value: date) -> Period:
    start = value - timedelta(days=value.weekday())
    return Period("week", start, start + timedelta(days=6))


def month(year: int, month_number: int) -> Period:
    last = calendar.monthrange(year, month_number)[1]
    return Period("month", date(year, month_number, 1), date(year, month_number, last))


def period_of(kind: PeriodKind, value: date) -> Period:
    if kind == "day":
        return day(value)
    if kind == "week":
        return week_of(value)
    return month(value.year, value.month)


def parse_day(text: str) -> Period:
    try:
        return day(date.fromisoformat(text))
    except ValueError:
        raise PeriodError(f"date must be YYYY-MM-DD, got {text[:40]!r}") from None


def parse_week(text: str) -> Period:
    match = _WEEK.match(text)
    if match is None:
        raise PeriodError(f"week must be an ISO week like 2025-W41, got {text[:40]!r}")
    try:
        return week_of(date.fromisocalendar(int(match[1]), int(match[2]), 1))
    except ValueError:
        raise PeriodError(f"{text[:40]!r} is not a week of that year") from None


def parse_month(text: str) -> Period:
    match = _MONTH.match(text)
    if match is None or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1:
        raise PeriodError(f"month must be YYYY-MM, got {text[:40]!r}")
    return month(int(match[1]), int(match[2]))


def parse_period(kind: PeriodKind, text: str) -> Period:
    parsers = {"day": parse_day, "week": parse_week, "month": parse_month}
    return parsers[kind](text)
