"""Organizations: admins create them, members join and leave them.

A paper is linked to an organization by its submitter, a verified author or a curator
(see :mod:`paperwire.community.edits`); an organization's page lists its papers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection

from paperwire.clock import utcnow
from paperwire.errors import Conflict, Forbidden, NotFound, UserError
from paperwire.models import Organization, User
from paperwire.store import organizations as org_store
from paperwire.store.organizations import Member
from paperwire.store.state import bump_content_version

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,98}[a-z0-9])?")
# Paths under /organizations/ that are pages, not organizations.
RESERVED_SLUGS = frozenset({"new"})
MAX_NAME = 200
MAX_URL = 2000
MEMBERS_SHOWN = 100


def check_slug(slug: str) -> str:
    slug = slug.strip()
    if not SLUG.fullmatch(slug):
        raise UserError(
            "A slug has 1 to 100 lowercase letters, digits or '-', "
            "and starts and ends with a letter or digit (like 'mila-quebec')."
        )
    if slug in RESERVED_SLUGS:
        raise UserError(f"The slug {slug!r} is reserved.")
    return slug


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UserError("Give the organization a name.")
    if len(name) > MAX_NAME:
        raise UserError(f"A name has at most {MAX_NAME} characters.")
    return name


def check_web_url(url: str | None, what: str) -> str | None:
    """An http(s) URL with a host, or None for a blank one; anything else is a 400."""
    url = (url or "").strip()
    if not url:
        return None
    scheme, sep, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if (
        not sep
        or scheme.lower() not in ("http", "https")
        or not host
        or "@" in host
        or any(c.isspace() for c in url)
    ):
        raise UserError(f"The {what} must be an http:// or https:// address.")
    if len(url) > MAX_URL:
        raise UserError(f"The {what} is longer than {MAX_URL} characters.")
    return url


def create_organization(
    conn: Connection, admin: User, *, slug: str, name: str, avatar_url: str | None = None
) -> Organization:
    """Create an organization (admins only); its slug must be unused, ignoring case."""
    if not admin.is_admin:
        raise Forbidden("Only admins can create organizations.")
    slug = check_slug(slug)
    name = check_name(name)
    avatar = check_web_url(avatar_url, "avatar URL")
    taken = Conflict(f"The slug {slug!r} is taken by another organization.")
    if org_store.slug_taken(conn, slug):
        raise taken
    created = org_store.create_organization(
        conn, slug=slug, name=name, avatar_url=avatar, now=utcnow()
    )
    if created is None:  # created by someone else since the check
        raise taken
    bump_content_version(conn)  # the organizations list shows it
    return created


def get_organization(conn: Connection, slug: str) -> Organization:
    organization = org_store.get_organization(conn, slug[:100])
    if organization is None:
        raise NotFound(f"No organization {slug[:100]!r}.")
    return organization


def join(conn: Connection, user: User, slug: str) -> bool:
    """Become a member; returns False (and changes nothing) for a member already."""
    organization = get_organization(conn, slug)
    joined = org_store.add_member(conn, organization.id, user.id, utcnow())
    if joined:
        bump_content_version(conn)  # the organization's page lists its members
    return joined


def leave(conn: Connection, user: User, slug: str) -> bool:
    """Stop being a member; returns False (and changes nothing) for a non-member."""
    organization = get_organization(conn, slug)
    left = org_store.remove_member(conn, organization.id, user.id)
    if left:
        bump_content_version(conn)
    return left


@dataclass(slots=True)
class Members:
    organization: Organization
    members: list[Member]
    total: int
    offset: int


def members(conn: Connection, slug: str, *, limit: int = MEMBERS_SHOWN, offset: int = 0) -> Members:
    organization = get_organization(conn, slug)
    return Members(
        organization=organization,
        members=org_store.members_of(conn, organization.id, limit=limit, offset=offset),
        total=org_store.count_members(conn, organization.id),
        offset=offset,
    )


def is_member(conn: Connection, user: User | None, organization: Organization) -> bool:
    return user is not None and org_store.is_member(conn, organization.id, user.id)


def organizations_of(conn: Connection, user: User) -> list[Organization]:
    return org_store.organizations_of(conn, user.id)
