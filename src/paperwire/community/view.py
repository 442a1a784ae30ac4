"""The community part of a paper page, for one viewer (anonymous pages are cached)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from paperwire.community import comments, people, votes
from paperwire.models import Paper, User


def paper_page_values(conn: Connection, paper: Paper, viewer: User | None) -> dict[str, Any]:
    return {
        **votes.page_values(conn, paper, viewer),
        **comments.page_values(conn, paper, viewer),
        **people.page_values(conn, paper, viewer),
    }
