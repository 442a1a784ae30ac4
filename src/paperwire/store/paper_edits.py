"""Edits members make to a paper: its code link, project page and organization.

A member's link is a ``links`` row with origin ``"user"``. Links are read ordered by
origin descending, so ``user`` comes before ``source`` and ``extracted`` and is the one
shown as the paper's code or project link. Imports never touch these rows: they add
stated links while ignoring URLs already stored, and replace only ``extracted`` ones.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from paperwire.models import LinkKind
from paperwire.store.schema import feed_entries, links, papers

USER_ORIGIN = "user"
EXTRACTED_ORIGIN = "extracted"
SUBMISSION_SOURCE = "submission"  # feed_entries.source of a member's submission


def user_links(conn: Connection, paper_id: str) -> dict[LinkKind, str]:
    """The links members set on a paper, by kind."""
    rows = conn.execute(
        select(links.c.kind, links.c.url)
        .where(links.c.paper_id == paper_id, links.c.origin == USER_ORIGIN)
        .order_by(links.c.id)
    )
    return {LinkKind(row.kind): row.url for row in rows}


def set_user_link(
    conn: Connection,
    paper_id: str,
    kind: LinkKind,
    url: str | None,
    *,
    extracted: dict[str, LinkKind],
) -> None:
    """Make ``url`` the paper's user link of ``kind`` (None: remove the user link).

    ``links`` holds one row per (paper, URL). A URL the paper already has (stated by a
    source or found in its text) is taken over by the user; a user link that is dropped
    goes back to ``extracted`` when the paper's text still yields it (``extracted``: URL
    -> kind), and is deleted otherwise (a stated one comes back with the next import).
    """
    previous = conn.execute(
        select(links.c.id, links.c.url).where(
            links.c.paper_id == paper_id,
            links.c.origin == USER_ORIGIN,
            links.c.kind == kind.value,
        )
    ).all()
    for row in previous:
        if row.url == url:
            continue
        found_kind = extracted.get(row.url)
        if found_kind is None:
            conn.execute(delete(links).where(links.c.id == row.id))
        else:
            conn.execute(
                update(links)
                .where(links.c.id == row.id)
                .values(origin=EXTRACTED_ORIGIN, kind=found_kind.value)
            )
    if url is None or any(row.url == url for row in previous):
        return
    existing = conn.execute(
        select(links.c.id).where(links.c.paper_id == paper_id, links.c.url == url)
    ).first()
    if existing is None:
        conn.execute(
            insert(links).values(paper_id=paper_id, kind=kind.value, url=url, origin=USER_ORIGIN)
        )
    else:
        conn.execute(
            update(links)
            .where(links.c.id == existing.id)
            .values(origin=USER_ORIGIN, kind=kind.value)
        )


def set_organization(
    conn: Connection, paper_id: str, organization_id: int | None, now: datetime
) -> None:
    """Link a paper (and every day it was featured, which cards show) to an organization."""
    conn.execute(
        update(papers)
        .where(papers.c.id == paper_id)
        .values(organization_id=organization_id, modified_at=now)
    )
    conn.execute(
        update(feed_entries)
        .where(feed_entries.c.paper_id == paper_id)
        .values(organization_id=organization_id)
    )


def touch(conn: Connection, paper_id: str, now: datetime) -> None:
    conn.execute(update(papers).where(papers.c.id == paper_id).values(modified_at=now))


def is_submitter(conn: Connection, paper_id: str, user_id: int) -> bool:
    """Whether the user submitted the paper to the feed (on any day)."""
    found = conn.execute(
        select(feed_entries.c.id).where(
            feed_entries.c.paper_id == paper_id,
            feed_entries.c.source == SUBMISSION_SOURCE,
            feed_entries.c.featured_by_user_id == user_id,
        )
    ).first()
    return found is not None
