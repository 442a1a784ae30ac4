from datetime import date

import pytest

from paperwire.feed.ranking import trending_score

TODAY = date(2025, 10, 10)


def test_score_follows_the_documented_formula() -> None:
    assert trending_score(20, TODAY, TODAY, 1.5) == pytest.approx(20 / 2**1.5)
    assert trending_score(50, date(2025, 10, 6), TODAY, 1.5) == pytest.approx(50 / 6**1.5)


def test_docs_example_order_holds() -> None:
    today = trending_score(20, TODAY, TODAY, 1.5)
    four_days_ago = trending_score(50, date(2025, 10, 6), TODAY, 1.5)
    yesterday = trending_score(40, date(2025, 10, 9), TODAY, 1.5)
    assert yesterday > today > four_days_ago


def test_future_days_count_as_today_and_negative_votes_as_zero() -> None:
    assert trending_score(10, date(2025, 10, 12), TODAY, 1.5) == trending_score(
        10, TODAY, TODAY, 1.5
    )
    assert trending_score(-3, TODAY, TODAY, 1.5) == 0
