"""Profiles: what one member has submitted, upvoted and authored, and where they belong.

Public: submissions, upvotes, verified authorship claims and organizations. The member
themself also sees their pending and rejected claims. An email address is never part of
a profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Connection

from paperwire.accounts.service import USERNAME
from paperwire.errors import NotFound
from paperwire.models import Organization, User
from paperwire.store import profiles as store
from paperwire.store import users as user_store
from paperwire.store.profiles import Claim, Submission, Upvote

MAX_LIMIT = 50  # items per list and page
MAX_ORGANIZATIONS = 100
PUBLIC_CLAIMS = ("verified",)
ALL_CLAIMS = ("pending", "verified", "rejected")

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProfileList(Generic[T]):
    """One page of one list, with the list's total."""

    items: list[T]
    total: int
    page: int
    limit: int

    @property
    def has_more(self) -> bool:
        return (self.page + 1) * self.limit < self.total


@dataclass(frozen=True, slots=True)
class ProfilePages:
    """Which page of each list to show (0 is the first)."""

    submissions: int = 0
    upvotes: int = 0
    claims: int = 0


@dataclass(frozen=True, slots=True)
class Profile:
    user: User
    is_self: bool  # the viewer is this user: pending and rejected claims are shown
    submissions: ProfileList[Submission]
    upvotes: ProfileList[Upvote]
    claims: ProfileList[Claim]
    organizations: list[Organization]


def profile(
    conn: Connection,
    username: str,
    viewer: User | None,
    *,
    limit: int = MAX_LIMIT,
    pages: ProfilePages | None = None,
) -> Profile:
    """``username``'s profile as ``viewer`` may see it; :class:`NotFound` if no such user."""
    user = user_store.get_user_by_name(conn, username) if USERNAME.fullmatch(username) else None
    if user is None:
        raise NotFound(f"There is no member named {username[:100]!r}.")
    pages = pages or ProfilePages()
    limit = max(1, min(limit, MAX_LIMIT))
    is_self = viewer is not None and viewer.id == user.id

    def offset(page: int) -> int:
        return page * limit

    submitted, submitted_total = store.submissions(
        conn, user.id, limit=limit, offset=offset(pages.submissions)
    )
    voted, voted_total = store.upvotes(conn, user.id, limit=limit, offset=offset(pages.upvotes))
    claimed, claimed_total = store.claims(
        conn,
        user.id,
        ALL_CLAIMS if is_self else PUBLIC_CLAIMS,
        limit=limit,
        offset=offset(pages.claims),
    )
    return Profile(
        user=user,
        is_self=is_self,
        submissions=ProfileList(submitted, submitted_total, pages.submissions, limit),
        upvotes=ProfileList(voted, voted_total, pages.upvotes, limit),
        claims=ProfileList(claimed, claimed_total, pages.claims, limit),
        organizations=store.organizations_of(conn, user.id, limit=MAX_ORGANIZATIONS),
    )
