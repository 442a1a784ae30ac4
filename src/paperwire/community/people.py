"""Author claims and who may edit a paper's links and organization, on the paper page."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from paperwire.community import claims, edits
from paperwire.models import Paper, User


def page_values(conn: Connection, paper: Paper, viewer: User | None) -> dict[str, Any]:
    """What the paper page shows about its claimed authors and editing to ``viewer``.

    ``verified_authors`` is the same for everyone; the rest is the viewer's own and is
    only filled for a signed-in viewer (anonymous pages are cached and shared).
    """
    values: dict[str, Any] = {
        "verified_authors": claims.verified_authors(conn, paper.id),
        "my_claim": None,
        "can_edit": False,
    }
    if viewer is not None:
        values["my_claim"] = claims.my_claim(conn, viewer, paper.id)
        values["can_edit"] = edits.can_edit(conn, viewer, paper.id)
    return values
