"""Paths of pages, built directly (cheaper than ``url_for`` on hot list pages)."""

from __future__ import annotations

from urllib.parse import quote

from paperwire.feed.periods import Period

PERIOD_SEGMENTS = {"day": "date", "week": "week", "month": "month"}


def period_path(period: Period) -> str:
    return f"/papers/{PERIOD_SEGMENTS[period.kind]}/{period.key}"


def paper_path(paper_id: str) -> str:
    # old-style arXiv ids keep their slash: /papers/hep-th/9901001
    return f"/papers/{quote(paper_id, safe='/:')}"


def organization_path(slug: str) -> str:
    return f"/organizations/{quote(slug, safe='')}"


def author_path(name: str) -> str:
    return f"/authors/{quote(name, safe='')}"
