"""Composing one subscriber's digest for one period.

``compose(context, subscription, period)`` picks the period's top papers by the trending
ranking (the trending page's score, as of the period's last day), keeps those that match
the subscription's topics (each paper once, with every reason it matched) and renders
the ``email/templates/digest`` set: subject, plain-text part and HTML part. None means
no paper qualifies: nothing is sent.

**Unsubscribe links (for the sender).** Both bodies are rendered with the literal
placeholder ``UNSUBSCRIBE_PLACEHOLDER`` (``{{UNSUBSCRIBE_URL}}``) where the footer's
unsubscribe link goes, so a composed digest can be stored in the outbox before its
unsubscribe token exists. The sender calls ``with_unsubscribe(text, html, url)`` to get
the final bodies: it puts ``url`` in the text part as is and HTML-escaped in the HTML
part. Each part holds the placeholder once, in its footer, which comes last; only that
last occurrence is replaced, so paper text that happens to spell the placeholder stays
text. The footer's other link, ``preferences_url``, needs nothing from the sender.
"""

from __future__ import annotations

import html as html_lib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection

from paperwire.context import Context
from paperwire.feed.service import rank_trending
from paperwire.models import FeedEntry, Paper, User
from paperwire.store import feed as feed_store
from paperwire.store.subscriptions import Subscription, user_subscriptions
from paperwire.text import plain_excerpt, render_latex
from paperwire.web.urls import paper_path

UNSUBSCRIBE_PLACEHOLDER = "{{UNSUBSCRIBE_URL}}"
AUTHORS_SHOWN = 3
EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class DigestPeriod:
    frequency: str  # "daily" or "weekly"
    key: str  # "daily:2026-11-26" or "weekly:2026-W48": one digest per subscription and key
    start: date  # the featured days it covers, inclusive
    end: date


@dataclass(slots=True)
class DigestItem:
    paper: Paper
    upvotes: int
    reasons: list[str] = field(default_factory=list)  # why it matched the topics


@dataclass(slots=True)
class Digest:
    subject: str
    text: str  # the plain-text part
    html: str  # the HTML part
    items: list[DigestItem]


def compose(context: Context, subscription: Subscription, period: DigestPeriod) -> Digest | None:
    """The digest of ``period`` for ``subscription``; None when no paper qualifies."""
    settings = context.settings
    with context.engine.connect() as conn:
        entries = feed_store.entries_between(conn, period.start, period.end)
    ranked = rank_trending(entries, as_of=period.end, gravity=settings.trending_gravity)
    if subscription.has_topics:
        items = _matching(context, subscription.topics, ranked)
    else:
        items = [DigestItem(entry.paper, entry.upvotes) for entry in ranked]
    items = items[: settings.digest_papers]
    if not items:
        return None
    return render(context, subscription, period, items)


def _matching(
    context: Context, topics: dict[str, Any], ranked: list[FeedEntry]
) -> list[DigestItem]:
    """The ranked entries matching any topic, in rank order, with the reasons they match."""
    reasons: dict[str, list[str]] = {entry.paper.id: [] for entry in ranked}
    for category in _strings(topics, "categories"):
        for entry in ranked:
            if category.lower() in (c.lower() for c in entry.paper.categories):
                reasons[entry.paper.id].append(f"category {category}")
    for organization in _strings(topics, "organizations"):
        for entry in ranked:
            if _of_organization(entry, organization):
                reasons[entry.paper.id].append(f"organization {organization}")
    for keyword in _strings(topics, "keywords"):
        # A keyword is one phrase: "retrieval augmented" means those words together.
        phrase = '"' + " ".join(keyword.replace('"', " ").split()) + '"'
        for paper_id in _search_matches(context, phrase, ranked):
            reasons[paper_id].append(f"keyword '{keyword}'")
    for query in _strings(topics, "searches"):
        for paper_id in _search_matches(context, query, ranked):
            reasons[paper_id].append(f"saved search '{query}'")
    return [
        DigestItem(entry.paper, entry.upvotes, reasons[entry.paper.id])
        for entry in ranked
        if reasons[entry.paper.id]
    ]


def _strings(topics: dict[str, Any], kind: str) -> list[str]:
    values = topics.get(kind) or []
    return list(dict.fromkeys(v.strip() for v in values if isinstance(v, str) and v.strip()))


def _of_organization(entry: FeedEntry, wanted: str) -> bool:
    key = wanted.casefold()
    return any(
        org is not None and key in (org.slug.casefold(), org.name.casefold())
        for org in (entry.organization, entry.paper.organization)
    )


def _search_matches(context: Context, query: str, ranked: list[FeedEntry]) -> set[str]:
    """The period's papers that the keyword search finds for ``query``.

    The search is the site's own (same parser, index and filters as /search), limited to
    the submission dates of the period's papers, so it scans only papers that could be
    in the period; its hits are then narrowed to the period's papers.
    """
    from paperwire.search.query import Filters
    from paperwire.search.service import MAX_RESULTS, SearchRequest, search

    published = [p.submitted_at.date() for p in (e.paper for e in ranked) if p.submitted_at]
    if not published:
        return set()
    request = SearchRequest(
        query=query,
        mode="keyword",
        filters=Filters(date_from=min(published), date_to=max(published)),
        limit=MAX_RESULTS,
    )
    results = search(context.engine, context.search, request)
    wanted = {entry.paper.id for entry in ranked}
    return {hit.paper.id for hit in results.hits if hit.paper.id in wanted}


def _title_html(title: str) -> Markup:
    """The title as HTML: text-mode LaTeX rendered, but math left as source text, since
    most mail clients drop MathML."""
    if "$" in title or "\\(" in title or "\\[" in title:
        return Markup(html_lib.escape(plain_excerpt(title, 1000)))  # noqa: S704 - escaped
    return render_latex(title)


def _item_values(settings_base: str, item: DigestItem) -> dict[str, Any]:
    paper = item.paper
    authors = paper.authors[:AUTHORS_SHOWN]
    more = len(paper.authors) - len(authors)
    return {
        "title": plain_excerpt(paper.title, 1000),
        "title_html": _title_html(paper.title),
        "authors": ", ".join(authors) + (f" and {more} more" if more > 0 else ""),
        "organization": paper.organization.name if paper.organization else None,
        "upvotes": item.upvotes,
        "excerpt": plain_excerpt(paper.abstract, EXCERPT_CHARS),
        "url": settings_base + paper_path(paper.id),
        "code_url": paper.code_url,
        "project_url": paper.project_url,
        "reasons": item.reasons,
    }


def render(
    context: Context, subscription: Subscription, period: DigestPeriod, items: list[DigestItem]
) -> Digest:
    """Render the digest template set for ``items`` (the unsubscribe link left as the
    placeholder)."""
    from paperwire.digests.periods import label
    from paperwire.email.messages import render_set

    settings = context.settings
    base = settings.base_url.rstrip("/")
    count = len(items)
    values = {
        "site_name": settings.site_name,
        "base_url": base,
        "frequency": period.frequency,
        "period_label": label(period),
        "count": count,
        "noun": "paper" if count == 1 else "papers",
        "has_topics": subscription.has_topics,
        "topics": subscription.topics,
        "items": [_item_values(base, item) for item in items],
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "preferences_url": base + "/digest/preview",
    }
    subject, text, html = render_set("digest", values)
    return Digest(subject=subject, text=text, html=html, items=items)


def with_unsubscribe(text: str, html: str, unsubscribe_url: str) -> tuple[str, str]:
    """The final text and HTML bodies: the placeholder replaced by ``unsubscribe_url``.

    Only the last occurrence is replaced (the footer's): a paper whose title happens to
    contain the placeholder text keeps it as text.
    """

    def last(body: str, value: str) -> str:
        head, found, tail = body.rpartition(UNSUBSCRIBE_PLACEHOLDER)
        return head + value + tail if found else body

    return last(text, unsubscribe_url), last(html, html_lib.escape(unsubscribe_url, quote=True))


def preview_subscription(conn: Connection, user_id: int) -> Subscription | None:
    """A user's first subscription (the preview shows its digest)."""
    found = user_subscriptions(conn, user_id)
    return found[0] if found else None


@dataclass(slots=True)
class Preview:
    subscription: Subscription
    period: DigestPeriod
    digest: Digest | None
    default: bool  # True: the user has no subscription; a daily digest without topics


def preview(context: Context, user: User, frequency: str | None, now: datetime) -> Preview:
    """The digest ``user`` would get now: their first subscription's (or a default daily
    one), ``frequency`` switching it. On an instance whose feed stopped before the period,
    the period holding the latest featured day is shown instead, so there is something
    to look at."""
    from paperwire.digests.periods import period_covering, period_for

    with context.engine.connect() as conn:
        found = preview_subscription(conn, user.id)
        subscription = found or Subscription(
            id=0,
            email=user.email,
            user_id=user.id,
            frequency="daily",
            hour_utc=7,
            topics={},
            status="preview",
            created_at=now,
        )
        if frequency is not None and frequency != subscription.frequency:
            subscription = replace(subscription, frequency=frequency)
        period = period_for(subscription.frequency, now)
        latest = feed_store.latest_feed_date(conn, until=period.end)
        if latest is not None and latest < period.start:
            period = period_covering(subscription.frequency, latest)
    return Preview(subscription, period, compose(context, subscription, period), found is None)
