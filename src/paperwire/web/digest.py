"""Routes: the digest preview, as a page and as JSON (signed-in users only).

The page shows the HTML part in a sandboxed ``<iframe srcdoc>`` (the mail's own styles
stay out of the site's, and nothing in it can run) and the text part beside it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from paperwire.digests import compose as digests
from paperwire.web.auth import UserDep
from paperwire.web.deps import ContextDep
from paperwire.web.pages import render

router = APIRouter(tags=["digests"])
NO_STORE = {"Cache-Control": "no-store"}
FrequencyParam = Annotated[
    Literal["daily", "weekly"] | None,
    Query(description="Preview this frequency instead of the subscription's."),
]


def _preview(context: ContextDep, user: UserDep, frequency: str | None) -> digests.Preview:
    return digests.preview(context, user, frequency, datetime.now(UTC))


@router.get("/digest/preview", response_class=HTMLResponse, include_in_schema=False)
def preview_page(
    request: Request, context: ContextDep, user: UserDep, frequency: FrequencyParam = None
) -> Response:
    shown = _preview(context, user, frequency)
    response = render(request, "digest_preview.html", preview=shown)
    response.headers.update(NO_STORE)
    return response


@router.get("/api/digest/preview", summary="The digest you would get now")
def preview_api(
    context: ContextDep, user: UserDep, frequency: FrequencyParam = None
) -> dict[str, Any]:
    """Your first subscription's digest for its current period (a daily digest without
    topics when you have none). ``digest`` is null when no paper qualifies: nothing
    would be sent."""
    shown = _preview(context, user, frequency)
    period = shown.period
    digest = shown.digest
    return {
        "frequency": period.frequency,
        "period": {
            "key": period.key,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
        },
        "default_subscription": shown.default,
        "topics": shown.subscription.topics,
        "digest": None
        if digest is None
        else {
            "subject": digest.subject,
            "text": digest.text,
            "html": digest.html,
            "items": [
                {
                    "id": item.paper.id,
                    "title": item.paper.title,
                    "upvotes": item.upvotes,
                    "reasons": item.reasons,
                }
                for item in digest.items
            ],
        },
    }
