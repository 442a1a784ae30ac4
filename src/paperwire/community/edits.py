"""Editing a paper's code link, project page and organization.

Who may edit: the member who submitted the paper, a verified author, or a curator. The
first two may link the paper only to an organization they are a member of; curators to
any. Edited links are stored with origin ``"user"`` and win over the links a source
stated or the text gave (see :mod:`paperwire.store.paper_edits`); later imports keep them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from sqlalchemy import Connection

from paperwire.clock import utcnow
from paperwire.errors import Forbidden, NotFound, UserError
from paperwire.ingest.links import extract_links, normalize_url
from paperwire.models import Link, LinkKind, Paper, User
from paperwire.store import claims as claim_store
from paperwire.store import organizations as org_store
from paperwire.store import paper_edits
from paperwire.store import papers as paper_store
from paperwire.store.search_state import enqueue_keyword
from paperwire.store.state import bump_content_version

MAX_URL = 2000
NOT_ALLOWED = "Only the paper's submitter, a verified author or a curator can edit it."


class Keep(Enum):
    """A field the edit leaves as it is (not the same as None, which removes it)."""

    KEEP = "keep"


KEEP = Keep.KEEP
Change = str | None | Literal[Keep.KEEP]


def get_paper(conn: Connection, paper_id: str) -> Paper:
    paper = paper_store.get_paper(conn, paper_id)
    if paper is None:
        raise NotFound(f"No paper with id {paper_id[:100]!r}.")
    return paper


def can_edit(conn: Connection, user: User | None, paper_id: str) -> bool:
    """Whether ``user`` may edit the paper's links and organization."""
    if user is None:
        return False
    return (
        user.is_curator
        or paper_edits.is_submitter(conn, paper_id, user.id)
        or claim_store.is_verified_author(conn, paper_id, user.id)
    )


def _checked_url(value: str) -> str:
    value = value.strip()
    if len(value) > MAX_URL:
        raise UserError(f"A link has at most {MAX_URL} characters.")
    if "://" in value and not value.lower().startswith(("http://", "https://")):
        raise UserError("Links must be http:// or https:// addresses.")
    return value


def code_link(value: str) -> str:
    """A repository URL brought to its root (``https://github.com/owner/repo``)."""
    normalized = normalize_url(LinkKind.CODE, _checked_url(value))
    # normalize_url roots repository URLs and passes other pages through: only a URL the
    # link classifier itself takes for a repository is a code link.
    if normalized is None or extract_links(normalized) != [Link(LinkKind.CODE, normalized)]:
        raise UserError(
            "The code link must be a repository URL on GitHub, GitLab, Codeberg or "
            "Bitbucket, like https://github.com/owner/repo."
        )
    return normalized


def project_link(value: str) -> str:
    normalized = normalize_url(LinkKind.PROJECT, _checked_url(value))
    if normalized is None:
        raise UserError(
            "The project page must be an http:// or https:// web page (not the paper's "
            "own arXiv or Hugging Face page)."
        )
    return normalized


def edit_paper(
    conn: Connection,
    user: User,
    paper_id: str,
    *,
    code: Change = KEEP,
    project: Change = KEEP,
    organization: Change = KEEP,
) -> Paper:
    """Set (a URL or slug), remove (None or blank) or keep (``KEEP``) each field.

    Everything is checked before anything is written, so a bad field changes nothing.
    """
    paper = get_paper(conn, paper_id)
    if not can_edit(conn, user, paper.id):
        raise Forbidden(NOT_ALLOWED)
    if code is KEEP and project is KEEP and organization is KEEP:
        return paper
    new_code = _parsed(code, code_link)
    new_project = _parsed(project, project_link)
    current = paper_edits.user_links(conn, paper.id)
    code_after = current.get(LinkKind.CODE) if new_code is KEEP else new_code
    project_after = current.get(LinkKind.PROJECT) if new_project is KEEP else new_project
    if code_after is not None and code_after == project_after:
        raise UserError("The code link and the project page must be different addresses.")

    organization_id = _organization_id(conn, user, paper, organization)

    now = utcnow()
    extracted = {link.url: link.kind for link in extract_links(paper.abstract, paper.comments)}
    if new_code is not KEEP:
        paper_edits.set_user_link(conn, paper.id, LinkKind.CODE, new_code, extracted=extracted)
    if new_project is not KEEP:
        paper_edits.set_user_link(
            conn, paper.id, LinkKind.PROJECT, new_project, extracted=extracted
        )
    if organization_id is not KEEP:
        paper_edits.set_organization(conn, paper.id, organization_id, now)
    else:
        paper_edits.touch(conn, paper.id, now)
    bump_content_version(conn)  # pages and cards show links and the organization
    enqueue_keyword(conn, [paper.id])  # has-code and organization are search filters
    return get_paper(conn, paper.id)


def _parsed(value: Change, parse: Callable[[str], str]) -> str | Keep | None:
    """KEEP, None for a blank value (remove), else the parsed value."""
    if value is KEEP:
        return KEEP
    if value is None or not value.strip():
        return None
    return parse(value)


def _organization_id(conn: Connection, user: User, paper: Paper, slug: Change) -> int | Keep | None:
    """The organization to link (None: none), checked against whom ``user`` may link to.

    The current organization counts as unchanged, so an editor who is not its member can
    still save the form (which sends it back) without being refused.
    """
    current = paper.organization.slug if paper.organization else None
    if slug is KEEP:
        return KEEP
    slug = slug.strip() if slug is not None and slug.strip() else None
    if slug == current:
        return KEEP
    if slug is None:
        return None
    found = org_store.get_organization(conn, slug[:100])
    if found is None:
        raise UserError(f"No organization {slug[:100]!r}.")
    if not user.is_curator and not org_store.is_member(conn, found.id, user.id):
        raise Forbidden(
            f"You can only link a paper to an organization you are a member of; "
            f"join {found.name} first."
        )
    return found.id


@dataclass(slots=True)
class EditForm:
    """What the edit page shows: the paper, the links members set, whom it may link to."""

    paper: Paper
    code: str  # the user link, "" if none (the shown link may come from a source)
    project: str
    organization: str  # the current slug, "" if none
    choices: list[tuple[str, str]]


def edit_form(conn: Connection, user: User, paper_id: str) -> EditForm:
    paper = get_paper(conn, paper_id)
    if not can_edit(conn, user, paper.id):
        raise Forbidden(NOT_ALLOWED)
    mine = paper_edits.user_links(conn, paper.id)
    return EditForm(
        paper=paper,
        code=mine.get(LinkKind.CODE, ""),
        project=mine.get(LinkKind.PROJECT, ""),
        organization=paper.organization.slug if paper.organization else "",
        choices=organization_choices(conn, user, paper),
    )


def organization_choices(conn: Connection, user: User, paper: Paper) -> list[tuple[str, str]]:
    """(slug, name) of the organizations ``user`` may link the paper to, current one first."""
    if user.is_curator:
        choices = [org for org, _count in org_store.list_organizations(conn)]
        choices.sort(key=lambda org: org.name.casefold())
    else:
        choices = org_store.organizations_of(conn, user.id)
    if paper.organization is not None:
        choices = [paper.organization, *(o for o in choices if o.id != paper.organization.id)]
    return [(org.slug, org.name) for org in choices]
