"""The trending score (pure). Documented in docs/trending.md; keep the two in step.

    score = upvotes / (age_days + 2) ** gravity

``age_days`` is how many days before the reference day the paper was featured (0 on the
day itself). The +2 keeps a paper featured today from dividing by zero and softens the
first days; ``gravity`` (``PAPERWIRE_TRENDING_GRAVITY``, default 1.5) sets how fast votes
fade: with 1.5, a paper keeps 54% of its day-0 score after one day, 35% after two and 13%
after six. This is the Hacker News form, with days in place of hours because papers
are featured once a day.
"""

from __future__ import annotations

from datetime import date


def trending_score(upvotes: int, featured_on: date, as_of: date, gravity: float) -> float:
    age_days = max((as_of - featured_on).days, 0)
    return float(max(upvotes, 0) / (age_days + 2) ** gravity)
