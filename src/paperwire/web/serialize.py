"""JSON shapes of the API, modelled on Hugging Face's ``/api/daily_papers``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from paperwire.models import FeedEntry, Organization, Paper


def iso(value: datetime | date | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, as Hugging Face writes its dates."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(), tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def organization_json(organization: Organization | None) -> dict[str, Any] | None:
    if organization is None:
        return None
    return {
        "name": organization.slug,
        "fullname": organization.name,
        "avatar": organization.avatar_url,
    }


def paper_json(paper: Paper) -> dict[str, Any]:
    return {
        "id": paper.id,
        "source": paper.source,
        "version": paper.version,
        "title": paper.title,
        "summary": paper.abstract,
        "authors": [{"name": name} for name in paper.authors],
        "publishedAt": iso(paper.submitted_at),
        "updatedAt": iso(paper.updated_at),
        "categories": paper.categories,
        "upvotes": paper.upvotes,
        "githubRepo": paper.code_url,
        "projectPage": paper.project_url,
        "links": [{"kind": link.kind.value, "url": link.url} for link in paper.links],
        "organization": organization_json(paper.organization),
        "comments": paper.comments,
        "journalRef": paper.journal_ref,
        "doi": paper.doi,
        "license": paper.license,
        "url": paper.abs_url,
        "venue": paper.venue,
        "thumbnail": paper.thumbnail_url,
    }


def entry_json(entry: FeedEntry) -> dict[str, Any]:
    paper = paper_json(entry.paper)
    paper["upvotes"] = entry.upvotes
    paper["organization"] = organization_json(entry.organization)
    item: dict[str, Any] = {
        "paper": paper,
        "publishedAt": iso(entry.feed_date),
        "title": entry.paper.title,
        "summary": entry.paper.abstract,
        "thumbnail": entry.paper.thumbnail_url,
        "numComments": entry.num_comments,
        "submittedBy": {"name": entry.submitted_by, "fullname": entry.submitted_by_name}
        if entry.submitted_by
        else None,
        "organization": organization_json(entry.organization),
    }
    if entry.score is not None:
        item["trendingScore"] = round(entry.score, 4)
    return item
