"""Threaded comments: Markdown with math, sanitized once when written.

Rules:

- members comment on a paper or reply to a comment of the same paper; replies nest at
  most ``MAX_DEPTH`` levels deep (a reply to a comment that deep joins its parent's
  replies instead), and a deleted comment, or one hidden from the replier, takes none;
- authors edit (``edited_at`` is set) and delete their own comments; a deletion is soft,
  and the thread keeps a "[deleted]" placeholder where replies hang from it;
- curators hide and unhide any comment: others then see "[hidden by a curator]", the
  comment's author and curators still see its text;
- ``papers.local_comments`` counts visible comments (neither deleted nor hidden) and is
  recomputed, and the content version bumped, in the transaction of every change;
- a commenter holding a verified claim to be an author of the paper is marked as such;
- writing and editing count against ``rate_limit_comment`` (per account) and
  ``rate_limit_comment_ip`` (per address), before anything else is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqlalchemy import Connection, Engine

from paperwire import ratelimit
from paperwire.clock import as_utc, utcnow
from paperwire.community.markdown import MAX_BODY, check_body, render_markdown
from paperwire.config import Settings
from paperwire.errors import Forbidden, NotFound, UserError
from paperwire.feed.service import canonical_paper_id
from paperwire.models import Paper, User
from paperwire.store import comments as store
from paperwire.store.state import bump_content_version

MAX_DEPTH = 6  # a top-level comment is at depth 1
_MAX_ANCESTORS = 64  # a bound on walking up a thread, whatever the data holds


@dataclass(frozen=True, slots=True)
class CommentAuthor:
    username: str
    name: str
    is_paper_author: bool


@dataclass(slots=True)
class CommentView:
    """A comment as one viewer sees it. A placeholder ("[deleted]", or "[hidden by a
    curator]" to those who may not read it) has no author, body or HTML."""

    id: int
    paper_id: str
    parent_id: int | None
    author: CommentAuthor | None
    body: str | None  # the Markdown, for its author only (to edit it)
    body_html: Markup | None
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool
    mine: bool
    replies: list[CommentView] = field(default_factory=list)

    def walk(self) -> Iterator[CommentView]:
        """This comment and all its replies, depth first."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.replies))


# --- reading ---------------------------------------------------------------------------


def thread(conn: Connection, paper_id: str, viewer: User | None) -> list[CommentView]:
    """The paper's top-level comments, each with its replies, oldest first."""
    rows = store.comments_of_paper(conn, paper_id)
    authors = store.verified_authors(conn, paper_id) if rows else set()
    return _tree(rows, authors, viewer)


def paper_thread(conn: Connection, paper_id: str, viewer: User | None) -> list[CommentView]:
    """:func:`thread` for a paper id in any form; :class:`NotFound` for no such paper."""
    paper_id = canonical_paper_id(paper_id)
    if not store.paper_exists(conn, paper_id):
        raise NotFound(f"There is no paper with id {paper_id[:100]!r}.")
    return thread(conn, paper_id, viewer)


def page_values(conn: Connection, paper: Paper, viewer: User | None) -> dict[str, Any]:
    """What the paper page shows about comments to ``viewer``."""
    comments = thread(conn, paper.id, viewer)
    visible = sum(
        1 for top in comments for node in top.walk() if not node.deleted and not node.hidden
    )
    return {"comments": comments, "comment_count": visible, "comment_max": MAX_BODY}


def _tree(
    rows: list[store.StoredComment], paper_authors: set[int], viewer: User | None
) -> list[CommentView]:
    """Nest rows (oldest first) into threads; deleted comments without kept replies go.

    Replies are always younger than their parent (a larger id), so walking the rows
    newest first decides every reply before its parent, without recursion.
    """
    by_id = {row.id: row for row in rows}
    kept: set[int] = set()
    for row in reversed(rows):
        if row.id in kept or not row.deleted:
            kept.add(row.id)
            if row.parent_id in by_id:
                kept.add(row.parent_id)
    views = {row.id: _view(row, paper_authors, viewer) for row in rows if row.id in kept}
    top: list[CommentView] = []
    for view in views.values():  # oldest first: replies end up in order
        parent = views.get(view.parent_id) if view.parent_id is not None else None
        (parent.replies if parent is not None else top).append(view)
    return top


def _may_read(row: store.StoredComment, viewer: User | None) -> bool:
    if row.deleted:
        return False
    if not row.hidden:
        return True
    return viewer is not None and (viewer.is_curator or viewer.id == row.user_id)


def _view(row: store.StoredComment, paper_authors: set[int], viewer: User | None) -> CommentView:
    readable = _may_read(row, viewer)
    mine = viewer is not None and viewer.id == row.user_id
    created = as_utc(row.created_at)
    assert created is not None
    return CommentView(
        id=row.id,
        paper_id=row.paper_id,
        parent_id=row.parent_id,
        author=(
            CommentAuthor(
                username=row.username,
                name=row.display_name or row.username,
                is_paper_author=row.user_id in paper_authors,
            )
            if readable
            else None
        ),
        body=row.body if readable and mine else None,
        # Sanitized by render_markdown when it was written.
        body_html=Markup(row.body_html) if readable else None,  # noqa: S704
        created_at=created,
        edited_at=as_utc(row.edited_at) if readable else None,
        deleted=row.deleted,
        hidden=row.hidden,
        mine=mine and not row.deleted,
    )


def _node(conn: Connection, comment: store.StoredComment, viewer: User) -> CommentView:
    """The comment as ``viewer`` sees it now, with its replies (after a change)."""
    for top in thread(conn, comment.paper_id, viewer):
        for node in top.walk():
            if node.id == comment.id:
                return node
    # a deleted comment without replies is no longer in the thread
    fresh = store.get_comment(conn, comment.id)
    return _view(fresh or comment, set(), viewer)


# --- writing ---------------------------------------------------------------------------


def _check_rate(engine: Engine, settings: Settings, user: User, ip: str | None) -> None:
    limits = [(settings.rate_limit_comment, f"user:{user.id}")]
    if ip:
        limits.append((settings.rate_limit_comment_ip, f"ip:{ip}"))
    ratelimit.check(engine, "comment", limits, enabled=settings.rate_limits)


def _existing(conn: Connection, comment_id: int) -> store.StoredComment:
    """A comment that was not deleted, else :class:`NotFound`."""
    comment = store.get_comment(conn, comment_id)
    if comment is None or comment.deleted:
        raise NotFound(f"There is no comment {comment_id}.")
    return comment


def _changed(conn: Connection, paper_id: str) -> None:
    """After any change: the visible count and the cached pages follow."""
    store.recount(conn, paper_id)
    bump_content_version(conn)


def create(
    engine: Engine,
    settings: Settings,
    user: User,
    paper_id: str,
    body: str,
    *,
    parent_id: int | None = None,
    ip: str | None = None,
) -> CommentView:
    """A new comment on a paper, or a reply to one of its comments."""
    _check_rate(engine, settings, user, ip)
    body = check_body(body)
    body_html = render_markdown(body)  # before the transaction: it is the slow part
    paper_id = canonical_paper_id(paper_id)
    with engine.begin() as conn:
        if not store.paper_exists(conn, paper_id):
            raise NotFound(f"There is no paper with id {paper_id[:100]!r}.")
        if parent_id is not None:
            parent_id = _reply_target(conn, paper_id, parent_id, user)
        comment_id = store.insert_comment(
            conn,
            paper_id=paper_id,
            user_id=user.id,
            parent_id=parent_id,
            body=body,
            body_html=body_html,
            now=utcnow(),
        )
        _changed(conn, paper_id)
        return _node(conn, _existing(conn, comment_id), user)


def _reply_target(conn: Connection, paper_id: str, parent_id: int, user: User) -> int:
    """The comment a reply to ``parent_id`` hangs from (an ancestor when too deep)."""
    parent = store.get_comment(conn, parent_id)
    if parent is None:
        raise NotFound(f"There is no comment {parent_id} to reply to.")
    if parent.paper_id != paper_id:
        raise UserError(
            f"Comment {parent_id} is about another paper; reply to it on that paper's page."
        )
    if parent.deleted:
        raise UserError(f"Comment {parent_id} was deleted; it takes no new replies.")
    if parent.hidden and not (user.is_curator or user.id == parent.user_id):
        raise UserError(f"Comment {parent_id} was hidden by a curator; it takes no new replies.")
    ancestors = [parent_id]  # the parent, its parent, ... up to the top-level comment
    while len(ancestors) < _MAX_ANCESTORS:
        above = store.parent_of(conn, ancestors[-1])
        if above is None:
            break
        ancestors.append(above)
    # The parent is at depth len(ancestors); the reply may go at most to MAX_DEPTH.
    return ancestors[max(0, len(ancestors) - (MAX_DEPTH - 1))]


def edit(
    engine: Engine,
    settings: Settings,
    user: User,
    comment_id: int,
    body: str,
    *,
    ip: str | None = None,
) -> CommentView:
    """Replace the text of one's own comment (marked as edited)."""
    _check_rate(engine, settings, user, ip)
    body = check_body(body)
    body_html = render_markdown(body)
    with engine.begin() as conn:
        comment = _existing(conn, comment_id)
        if comment.user_id != user.id:
            raise Forbidden("Only its author can edit a comment.")
        store.set_body(conn, comment_id, body, body_html, utcnow())
        _changed(conn, comment.paper_id)
        return _node(conn, comment, user)


def delete(engine: Engine, user: User, comment_id: int) -> CommentView:
    """Delete one's own comment (it stays as "[deleted]" while replies hang from it)."""
    with engine.begin() as conn:
        comment = _existing(conn, comment_id)
        if comment.user_id != user.id:
            raise Forbidden("Only its author can delete a comment; curators can hide it.")
        store.mark_deleted(conn, comment_id, utcnow())
        _changed(conn, comment.paper_id)
        return _node(conn, comment, user)


def set_hidden(engine: Engine, curator: User, comment_id: int, *, hidden: bool) -> CommentView:
    """Hide a comment from readers, or show it again (curators only; idempotent)."""
    if not curator.is_curator:
        raise Forbidden("Only curators can hide or unhide comments.")
    with engine.begin() as conn:
        comment = _existing(conn, comment_id)
        if comment.hidden != hidden:
            if hidden:
                store.set_hidden(conn, comment_id, curator.id, utcnow())
            else:
                store.set_hidden(conn, comment_id, None, None)
            _changed(conn, comment.paper_id)
        return _node(conn, comment, curator)
