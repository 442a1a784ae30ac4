"""Threaded comments: Markdown with math, sanitized once when written."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from paperwire.models import Paper, User


def page_values(conn: Connection, paper: Paper, viewer: User | None) -> dict[str, Any]:
    """What the paper page shows about comments to ``viewer``."""
    return {"comments": []}
