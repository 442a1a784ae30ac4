"""Curators' feed controls, and refreshing a paper's metadata from arXiv.

A curator features any paper (fetched from arXiv if needed) on any day, removes it, and
orders a day's list. The order is ``feed_entries.position``: it is the "date" (as
featured) order of the day's list, and breaks ties between equal upvote counts in the
default order.

Refreshing re-reads a paper from arXiv and merges it like any import (a newer version
replaces the metadata); votes, comments, feed entries and links that members set live
in their own rows and columns, which the merge does not touch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import Connection, Engine

from paperwire.community import edits
from paperwire.community.submissions import PaperSource, store_record
from paperwire.errors import Conflict, Forbidden, NotFound, UserError
from paperwire.feed.service import canonical_paper_id
from paperwire.ingest.arxiv_ids import InvalidArxivId, parse_arxiv_id
from paperwire.models import FeedEntry, Paper, User
from paperwire.store import feed as feed_store
from paperwire.store import papers as paper_store
from paperwire.store.state import bump_content_version

CURATOR = "curator"  # feed_entries.source of a paper a curator featured
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class Featured:
    paper: Paper
    day: date
    position: int  # 0-based, in the day's as-featured order
    fetched: bool


@dataclass(frozen=True, slots=True)
class Refreshed:
    paper: Paper
    previous_version: int | None
    changed: bool  # the stored metadata changed


def parse_day(text: str) -> date:
    if not _DAY.fullmatch(text or ""):
        raise UserError(f"A day is written YYYY-MM-DD, like 2025-10-06; not {text[:40]!r}.")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UserError(f"{text} is not a calendar day.") from error


def _require_curator(user: User) -> None:
    if not user.is_curator:
        raise Forbidden("Only curators can change a day's list.")


def day_entries(conn: Connection, day: date) -> list[FeedEntry]:
    """The day's entries in as-featured order (what the curator page lists)."""
    return feed_store.entries_between(conn, day, day, order="date")


def feature(
    engine: Engine,
    source: PaperSource,
    user: User,
    day: date,
    text: str,
    position: int | None = None,
) -> Featured:
    """Feature the paper named by ``text`` on ``day``; after the day's last unless
    ``position`` (0-based) says where."""
    _require_curator(user)
    if position is not None and position < 0:
        raise UserError("A position counts from 0 (the top of the day's list).")
    try:
        paper_id, _version = parse_arxiv_id((text or "").strip()[:300])
    except InvalidArxivId as error:
        paper_id = canonical_paper_id((text or "")[:300])  # a stored paper of another source
        if not paper_id:
            raise UserError("Name a paper: an arXiv id or link, or a stored paper's id.") from None
        with engine.connect() as conn:
            if paper_store.get_paper(conn, paper_id) is None:
                raise NotFound(
                    f"No paper {paper_id[:100]!r} is stored, and it is not an arXiv id ({error})."
                ) from error
    with engine.connect() as conn:
        stored = paper_store.get_paper(conn, paper_id)
    fetched = stored is None
    if fetched:
        store_record(engine, source.fetch(paper_id))
    with engine.begin() as conn:
        at = feed_store.feature(
            conn,
            paper_id=paper_id,
            day=day,
            source=CURATOR,
            user_id=user.id,
            submitted_by=user.username,
            submitted_by_name=user.display_name or user.username,
        )
        if at is None:
            raise Conflict(f"{paper_id} is already on the list of {day.isoformat()}.")
        if position is not None and position < at:
            order = feed_store.day_paper_ids(conn, day)
            order.remove(paper_id)
            order.insert(position, paper_id)
            feed_store.set_day_order(conn, day, order)
            at = position
        bump_content_version(conn)
        paper = paper_store.get_paper(conn, paper_id)
    if paper is None:  # stored above; only a concurrent delete could get here
        raise NotFound(f"No paper with id {paper_id[:100]!r}.")
    return Featured(paper=paper, day=day, position=at, fetched=fetched)


def unfeature(engine: Engine, user: User, day: date, paper_id: str) -> None:
    _require_curator(user)
    paper_id = canonical_paper_id(paper_id)
    with engine.begin() as conn:
        if not feed_store.unfeature(conn, day, paper_id):
            raise NotFound(f"{paper_id[:100]} is not on the list of {day.isoformat()}.")
        bump_content_version(conn)


def reorder(engine: Engine, user: User, day: date, paper_ids: list[str]) -> list[str]:
    """Put the day's papers in this order; ``paper_ids`` must be exactly the day's papers."""
    _require_curator(user)
    wanted = [canonical_paper_id(pid) for pid in paper_ids]
    with engine.begin() as conn:
        current = feed_store.day_paper_ids(conn, day)
        problems = _differences(current, wanted)
        if problems:
            raise UserError(
                f"The order must name each paper of {day.isoformat()} once: "
                + "; ".join(problems)
                + "."
            )
        feed_store.set_day_order(conn, day, wanted)
        bump_content_version(conn)
    return wanted


def move(
    engine: Engine, user: User, day: date, paper_id: str, direction: Literal["up", "down"]
) -> list[str]:
    """Swap a paper with its neighbour above or below (the page's buttons)."""
    _require_curator(user)
    paper_id = canonical_paper_id(paper_id)
    with engine.begin() as conn:
        order = feed_store.day_paper_ids(conn, day)
        if paper_id not in order:
            raise NotFound(f"{paper_id[:100]} is not on the list of {day.isoformat()}.")
        i = order.index(paper_id)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(order):
            order[i], order[j] = order[j], order[i]
            feed_store.set_day_order(conn, day, order)
            bump_content_version(conn)
    return order


def _differences(current: list[str], wanted: list[str]) -> list[str]:
    problems = []
    missing = [pid for pid in current if pid not in wanted]
    extra = [pid for pid in dict.fromkeys(wanted) if pid not in current]
    repeated = sorted({pid for pid in wanted if wanted.count(pid) > 1})
    if missing:
        problems.append("missing " + ", ".join(missing[:20]))
    if extra:
        problems.append("not on this day " + ", ".join(p[:100] for p in extra[:20]))
    if repeated:
        problems.append("named twice " + ", ".join(p[:100] for p in repeated[:20]))
    return problems


# --- refreshing metadata ----------------------------------------------------------------------


def may_refresh(conn: Connection, user: User, paper_id: str) -> bool:
    """The paper's submitter, a verified author of it, or a curator: who may edit it."""
    return edits.can_edit(conn, user, paper_id)


def refresh(engine: Engine, source: PaperSource, user: User, paper_id: str) -> Refreshed:
    """Re-read an arXiv paper and store what is newer (a new version replaces metadata)."""
    paper_id = canonical_paper_id(paper_id)
    with engine.connect() as conn:
        paper = paper_store.get_paper(conn, paper_id)
        if paper is None:
            raise NotFound(f"No paper with id {paper_id[:100]!r}.")
        if not may_refresh(conn, user, paper_id):
            raise Forbidden(
                "Only the paper's submitter, a verified author or a curator can refresh it."
            )
    if not paper.is_arxiv:
        raise UserError(f"{paper_id} is not an arXiv paper; only arXiv papers can be refreshed.")
    changed = store_record(engine, source.fetch(paper_id))
    with engine.connect() as conn:
        updated = paper_store.get_paper(conn, paper_id)
    if updated is None:
        raise NotFound(f"No paper with id {paper_id[:100]!r}.")
    return Refreshed(paper=updated, previous_version=paper.version, changed=changed)
