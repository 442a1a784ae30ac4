from datetime import date

import pytest

from paperwire.feed.periods import PeriodError, parse_day, parse_month, parse_week


def test_iso_week_spans_monday_to_sunday() -> None:
    week = parse_week("2025-W41")
    assert (week.start, week.end) == (date(2025, 10, 6), date(2025, 10, 12))
    assert week.key == "2025-W41"
    assert week.shifted(-1).key == "2025-W40"
    assert parse_week("2026-W01").start == date(2025, 12, 29)  # ISO years straddle


def test_month_and_day_keys_round_trip() -> None:
    month = parse_month("2024-02")
    assert (month.start, month.end) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month.shifted(11).key == "2025-01"
    assert parse_day("2025-10-06").shifted(1).key == "2025-10-07"


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_day, "2025-13-01"),
        (parse_day, "yesterday"),
        (parse_week, "2025-W54"),
        (parse_week, "2025-41"),
        (parse_month, "2025-00"),
        (parse_month, "2025-1"),
        (parse_day, "\x00" * 5000),
    ],
)
def test_bad_periods_say_what_was_expected(parse: object, text: str) -> None:
    with pytest.raises(PeriodError) as error:
        parse(text)  # type: ignore[operator]
    assert len(str(error.value)) < 200
