"""Author claims and who may edit a paper's links and organization."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from paperwire.models import Paper, User


def page_values(conn: Connection, paper: Paper, viewer: User | None) -> dict[str, Any]:
    """What the paper page shows about its claimed authors and editing to ``viewer``."""
    return {"verified_authors": [], "my_claim": None, "can_edit": False}
