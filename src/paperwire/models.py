"""Plain dataclasses shared by every layer: what parsers produce and services return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class LinkKind(StrEnum):
    CODE = "code"  # a source repository: GitHub, GitLab
    PROJECT = "project"  # a project page
    MODEL = "model"  # a Hugging Face model
    DATASET = "dataset"  # a Hugging Face dataset
    SPACE = "space"  # a Hugging Face space (a demo)


@dataclass(frozen=True, slots=True)
class Link:
    kind: LinkKind
    url: str


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    """An organization as a source names it: ``slug`` is its stable handle (HF ``name``)."""

    slug: str
    name: str
    avatar_url: str | None = None


@dataclass(slots=True)
class PaperRecord:
    """One paper's metadata as one source states it at one moment."""

    id: str
    source: str  # "arxiv" for arXiv papers, otherwise the generic source name
    title: str
    abstract: str
    authors: list[str]
    categories: list[str] = field(default_factory=list)  # primary first
    version: int | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    url: str | None = None
    venue: str | None = None
    thumbnail_url: str | None = None
    links: list[Link] = field(default_factory=list)  # links the source states explicitly


@dataclass(slots=True)
class FeedRecord:
    """A paper featured on a day, as a source (e.g. the HF daily list) states it."""

    paper_id: str
    feed_date: date
    position: int  # order within that day's list as the source gave it
    upvotes: int = 0
    num_comments: int = 0
    submitted_by: str | None = None  # a user handle
    submitted_by_name: str | None = None
    organization: OrganizationRecord | None = None


@dataclass(slots=True)
class ParsedRecord:
    """A record read from a file: a paper, maybe featured on a day, and where it came from."""

    paper: PaperRecord
    line: int
    feed: FeedRecord | None = None


@dataclass(frozen=True, slots=True)
class RecordError:
    """A record that could not be read; the importer reports it and goes on."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    slug: str
    name: str
    avatar_url: str | None = None


@dataclass(slots=True)
class Paper:
    """A stored paper, as pages, the API and the CLI show it."""

    id: str
    source: str
    title: str
    abstract: str
    authors: list[str]
    categories: list[str]
    version: int | None = None
    submitted_at: datetime | None = None
    updated_at: datetime | None = None
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    license: str | None = None
    url: str | None = None
    venue: str | None = None
    thumbnail_url: str | None = None
    organization: Organization | None = None
    upvotes: int = 0
    links: list[Link] = field(default_factory=list)

    @property
    def is_arxiv(self) -> bool:
        return self.source == "arxiv"

    @property
    def abs_url(self) -> str | None:
        return f"https://arxiv.org/abs/{self.id}" if self.is_arxiv else self.url

    @property
    def pdf_url(self) -> str | None:
        return f"https://arxiv.org/pdf/{self.id}" if self.is_arxiv else None

    def first_link(self, kind: LinkKind) -> str | None:
        return next((link.url for link in self.links if link.kind == kind), None)

    @property
    def code_url(self) -> str | None:
        return self.first_link(LinkKind.CODE)

    @property
    def project_url(self) -> str | None:
        return self.first_link(LinkKind.PROJECT)


@dataclass(slots=True)
class FeedEntry:
    """A paper featured on a day, with the upvotes that order the list."""

    paper: Paper
    feed_date: date
    position: int
    upvotes: int
    num_comments: int = 0
    submitted_by: str | None = None
    submitted_by_name: str | None = None
    organization: Organization | None = None
    score: float | None = None  # the trending score, where a list is ranked by it


class Role(StrEnum):
    MEMBER = "member"
    CURATOR = "curator"  # features papers, moderates comments, verifies author claims
    ADMIN = "admin"  # a curator who also manages organizations and roles


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    role: Role
    created_at: datetime
    display_name: str | None = None

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @property
    def is_curator(self) -> bool:
        return self.role in (Role.CURATOR, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN
