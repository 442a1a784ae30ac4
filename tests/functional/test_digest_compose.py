"""Composing digests over the real Hugging Face archive, and the preview page/API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, insert, update

from factories import make_user, sign_in
from paperwire.config import Settings
from paperwire.context import Context, build_context
from paperwire.digests.compose import (
    UNSUBSCRIBE_PLACEHOLDER,
    Digest,
    DigestPeriod,
    compose,
    with_unsubscribe,
)
from paperwire.digests.periods import period_covering
from paperwire.feed.ranking import trending_score
from paperwire.store import feed as feed_store
from paperwire.store.schema import papers, subscriptions
from paperwire.store.subscriptions import Subscription

# The archive's last full week: 17-21 Aug 2026 are featured days.
WEEK = period_covering("weekly", date(2026, 8, 19))


@pytest.fixture
def context(hf_settings: Settings) -> Iterator[Context]:
    context = build_context(hf_settings)
    yield context
    context.close()


def subscriber(topics: dict[str, Any] | None = None, frequency: str = "weekly") -> Subscription:
    return Subscription(
        id=1,
        email="reader@example.org",
        user_id=None,
        frequency=frequency,
        hour_utc=7,
        topics=topics or {},
        status="active",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def expected_order(context: Context, period: DigestPeriod) -> list[str]:
    """The period's papers by trending score, computed here from the entries."""
    with context.engine.connect() as conn:
        entries = feed_store.entries_between(conn, period.start, period.end)
    best: dict[str, tuple[float, int]] = {}
    gravity = context.settings.trending_gravity
    for entry in entries:
        score = trending_score(entry.upvotes, entry.feed_date, period.end, gravity)
        best[entry.paper.id] = max(best.get(entry.paper.id, (0.0, 0)), (score, entry.upvotes))
    return sorted(best, key=lambda pid: (-best[pid][0], -best[pid][1]))


def composed(context: Context, topics: dict[str, Any] | None = None) -> Digest:
    digest = compose(context, subscriber(topics), WEEK)
    assert digest is not None
    return digest


def test_without_topics_the_top_papers_by_trending_score(context: Context) -> None:
    digest = composed(context)
    expected = expected_order(context, WEEK)
    assert len(expected) > context.settings.digest_papers
    assert [item.paper.id for item in digest.items] == expected[: context.settings.digest_papers]
    assert all(item.reasons == [] for item in digest.items)
    assert digest.subject == (
        "paperwire weekly: 10 trending papers for week 34 of 2026 (17–23 Aug 2026)"
    )


def test_the_daily_digest_covers_one_day(context: Context) -> None:
    period = period_covering("daily", date(2026, 8, 20))
    digest = compose(context, subscriber(frequency="daily"), period)
    assert digest is not None
    with context.engine.connect() as conn:
        day_ids = {e.paper.id for e in feed_store.entries_between(conn, period.start, period.end)}
    assert {item.paper.id for item in digest.items} <= day_ids
    assert digest.subject.startswith("paperwire daily: 10 trending papers for 20 Aug 2026")


def test_topics_keep_matching_papers_once_with_their_reasons(context: Context) -> None:
    topics = {"organizations": ["google"], "keywords": ["diffusion"], "searches": ["agent"]}
    digest = composed(context, topics)
    ids = [item.paper.id for item in digest.items]
    assert len(ids) == len(set(ids))
    order = expected_order(context, WEEK)
    positions = [order.index(pid) for pid in ids]
    assert positions == sorted(positions)  # still in trending order
    reasons_seen = set()
    for item in digest.items:
        assert item.reasons
        text = f"{item.paper.title} {item.paper.abstract}".lower()
        for reason in item.reasons:
            reasons_seen.add(reason)
            if reason == "organization google":
                assert item.paper.organization is not None
                assert item.paper.organization.slug == "google"
            elif reason == "keyword 'diffusion'":
                assert "diffusion" in text
            else:
                assert reason == "saved search 'agent'"
                assert "agent" in text
    assert "organization google" in reasons_seen
    # a paper matching two topics lists both reasons
    both = [item for item in digest.items if len(item.reasons) > 1]
    assert both, [item.reasons for item in digest.items]


def test_a_keyword_finds_every_matching_paper_of_the_period(context: Context) -> None:
    digest = compose(context, subscriber({"keywords": ["diffusion"]}), WEEK)
    assert digest is not None
    with context.engine.connect() as conn:
        entries = feed_store.entries_between(conn, WEEK.start, WEEK.end)
    titled = {e.paper.id for e in entries if "diffusion" in e.paper.title.lower()}
    assert titled  # the archive's week has diffusion papers
    assert titled <= {item.paper.id for item in digest.items}


def test_categories_match_the_papers_field(context: Context, hf_settings: Settings) -> None:
    assert compose(context, subscriber({"categories": ["cs.CL"]}), WEEK) is None  # HF: none
    chosen = expected_order(context, WEEK)[-1]  # the week's least trending paper
    with context.engine.begin() as conn:
        conn.execute(update(papers).where(papers.c.id == chosen).values(categories=["cs.CL"]))
    digest = compose(context, subscriber({"categories": ["CS.cl"]}), WEEK)
    assert digest is not None
    assert [(i.paper.id, i.reasons) for i in digest.items] == [(chosen, ["category CS.cl"])]


def test_nothing_qualifies_nothing_is_sent(context: Context) -> None:
    assert compose(context, subscriber({"keywords": ["zqxjvw-never-a-word"]}), WEEK) is None
    empty = period_covering("weekly", date(2030, 1, 9))
    assert compose(context, subscriber(), empty) is None


def test_parts_link_absolutely_and_stay_self_contained(context: Context) -> None:
    digest = composed(context, {"keywords": ["diffusion"]})
    base = context.settings.base_url
    for item in digest.items:
        url = f"{base}/papers/{item.paper.id}"
        assert url in digest.text
        assert f'href="{url}"' in digest.html
        if item.paper.code_url:
            assert item.paper.code_url in digest.text
    html = digest.html.lower()
    assert "<script" not in html
    assert "<img" not in html
    assert "<link" not in html
    assert "src=" not in html
    assert "url(" not in html
    assert "@import" not in html
    assert "max-width:600px" in html
    hrefs = re.findall(r'href="([^"]+)"', digest.html)
    assert all(h.startswith(("http://", "https://")) or h == UNSUBSCRIBE_PLACEHOLDER for h in hrefs)
    assert digest.text.count(UNSUBSCRIBE_PLACEHOLDER) == 1
    assert digest.html.count(UNSUBSCRIBE_PLACEHOLDER) == 1


def test_the_sender_fills_the_unsubscribe_link(context: Context) -> None:
    digest = composed(context)
    url = "https://papers.example.org/digest/unsubscribe?token=a<b&c"
    text, html = with_unsubscribe(digest.text, digest.html, url)
    assert UNSUBSCRIBE_PLACEHOLDER not in text
    assert UNSUBSCRIBE_PLACEHOLDER not in html
    assert text.rstrip().endswith(url)
    assert 'href="https://papers.example.org/digest/unsubscribe?token=a&lt;b&amp;c"' in html


def test_paper_text_is_escaped(context: Context) -> None:
    chosen = expected_order(context, WEEK)[0]
    hostile = "<script>alert(1)</script> <img src=x onerror=y>"
    with context.engine.begin() as conn:
        conn.execute(
            update(papers)
            .where(papers.c.id == chosen)
            .values(title=hostile, authors=[UNSUBSCRIBE_PLACEHOLDER, "<b>Eve</b>"])
        )
    digest = composed(context)
    assert "<script" not in digest.html.lower()
    assert "<img" not in digest.html.lower()
    assert "&lt;script&gt;" in digest.html
    assert "&lt;b&gt;Eve&lt;/b&gt;" in digest.html
    text, html = with_unsubscribe(digest.text, digest.html, "https://x.example/u")
    # only the footer's placeholder is the sender's: the author's stays text
    assert text.count(UNSUBSCRIBE_PLACEHOLDER) == 1
    assert html.count(UNSUBSCRIBE_PLACEHOLDER) == 1
    assert text.rstrip().endswith("https://x.example/u")
    assert 'href="https://x.example/u"' in html


def test_preview_needs_sign_in(hf_client: TestClient) -> None:
    assert hf_client.get("/api/digest/preview").status_code == 401
    page = hf_client.get("/digest/preview", follow_redirects=False)
    assert page.status_code == 303 or page.status_code == 302
    assert page.headers["location"].startswith("/login?next=")


def test_preview_of_the_default_daily_digest(
    hf_client: TestClient, hf_settings: Settings, context: Context
) -> None:
    engine: Engine = context.engine
    sign_in(hf_client, engine, make_user(engine, "reader"))
    body = hf_client.get("/api/digest/preview").json()
    assert body["default_subscription"] is True
    assert body["frequency"] == "daily"
    # the archive stops on 21 Aug 2026: the preview shows the period holding that day
    assert body["period"]["end"] >= "2026-08-21" >= body["period"]["start"]
    assert len(body["digest"]["items"]) == hf_settings.digest_papers
    page = hf_client.get("/digest/preview")
    assert page.status_code == 200
    assert '<iframe class="digest-html"' in page.text
    assert 'sandbox=""' in page.text
    assert 'srcdoc="&lt;!doctype html&gt;' in page.text
    first = body["digest"]["items"][0]["id"]
    assert f"/papers/{first}" in page.text
    weekly = hf_client.get("/api/digest/preview", params={"frequency": "weekly"}).json()
    assert weekly["frequency"] == "weekly"
    assert weekly["period"]["key"].startswith("weekly:")
    assert hf_client.get("/api/digest/preview", params={"frequency": "hourly"}).status_code == 422


def test_preview_of_a_subscription_with_topics(hf_client: TestClient, context: Context) -> None:
    engine: Engine = context.engine
    user = make_user(engine, "follower")
    with engine.begin() as conn:
        conn.execute(
            insert(subscriptions).values(
                email=user.email,
                user_id=user.id,
                frequency="weekly",
                topics={"organizations": ["google"], "keywords": [], "searches": []},
                status="active",
                unsubscribe_token_hash="0" * 64,
                created_at=datetime.now(UTC),
            )
        )
    sign_in(hf_client, engine, user)
    body = hf_client.get("/api/digest/preview").json()
    assert body["default_subscription"] is False
    assert body["frequency"] == "weekly"
    items = body["digest"]["items"]
    assert items
    assert all(item["reasons"] == ["organization google"] for item in items)
