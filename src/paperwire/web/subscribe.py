"""Routes: digest subscriptions: subscribe (double opt-in), manage, unsubscribe.

The header's compact form is a GET to ``/subscribe?email=`` (cached pages hold no
per-visitor token); that page has the full form with the CSRF token. Confirm and
unsubscribe links only ever show a page with a button on GET, because mail scanners
follow links; the POST does the change. ``POST /unsubscribe/{token}`` is RFC 8058's
one-click target: mail providers post ``List-Unsubscribe=One-Click`` from their servers
with no cookie or CSRF token, so :data:`CSRF_EXEMPT` is passed to the CSRF middleware
(the token in the path is the credential).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire import ratelimit
from paperwire.context import Context
from paperwire.digests import subscriptions as service
from paperwire.email import messages
from paperwire.email.sender import deliver
from paperwire.errors import RateLimited, UserError
from paperwire.models import User
from paperwire.store.subscriptions import TOPIC_KINDS, Subscription
from paperwire.web.auth import UserDep, ViewerDep, current_viewer, safe_next
from paperwire.web.pages import render

# Paths the CSRF middleware lets through without a token (see the module's note).
CSRF_EXEMPT = ("/unsubscribe/",)
# Per IP: an office or campus shares one address, so looser than the per-address limit
# (``rate_limit_password_reset``, the other "mail a link to this address" action).
SUBSCRIBE_IP_RULE = "20/hour"
SENT = (
    "Check your inbox: if this address can receive our mail, a link to confirm the "
    "subscription is on its way."
)
SECRET_PAGE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
NO_STORE = {"Cache-Control": "no-store"}

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["digests"])

EmailText = Annotated[str, Form(max_length=400)]
TopicText = Annotated[str, Form(max_length=8000)]
Next = Annotated[str, Form(max_length=2000)]


def _context(request: Request) -> Context:
    return cast(Context, request.app.state.context)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _subscribe(
    request: Request,
    background: BackgroundTasks,
    email: str,
    frequency: str,
    hour_utc: int,
    topics: dict[str, list[str]],
) -> None:
    """Counted, checked, stored; the confirm mail goes out after the response. The caller
    answers :data:`SENT` whatever happened to the address (no account enumeration)."""
    context = _context(request)
    settings = context.settings
    key = " ".join(email.split()).casefold()[:150]
    ratelimit.check(
        context.engine,
        "subscribe",
        [
            (SUBSCRIBE_IP_RULE, f"ip:{_client_ip(request)}"),
            (settings.rate_limit_password_reset, f"email:{key}"),
        ],
        enabled=settings.rate_limits,
    )
    with context.engine.begin() as conn:
        pending = service.subscribe(
            conn,
            settings,
            email,
            frequency=frequency,
            hour_utc=hour_utc,
            topics=topics,
            user=current_viewer(request),
        )
    if pending is None:  # a suppressed address: same answer, no mail
        return
    link = service.confirm_url(settings, pending.confirm_token)
    message = messages.confirm_subscription(settings, pending.email, link)
    background.add_task(deliver, context.mailer, message)


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "email": subscription.email,
        "frequency": subscription.frequency,
        "hourUtc": subscription.hour_utc,
        "topics": {kind: list(subscription.topics.get(kind) or []) for kind in TOPIC_KINDS},
        "status": subscription.status,
        "createdAt": subscription.created_at.isoformat(),
        "confirmedAt": subscription.confirmed_at.isoformat() if subscription.confirmed_at else None,
    }


def _form_topics(
    categories: str, organizations: str, keywords: str, searches: str
) -> dict[str, list[str]]:
    texts = {
        "categories": categories,
        "organizations": organizations,
        "keywords": keywords,
        "searches": searches,
    }
    return {kind: service.split_topic_text(kind, text) for kind, text in texts.items()}


def _page(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    response = render(request, template, status_code=status_code, **values)
    response.headers.update(NO_STORE)
    return response


def _error_page(request: Request, template: str, error: UserError, **values: Any) -> Response:
    response = _page(request, template, error.status_code, error=error.message, **values)
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


# --- subscribing (pages) ---


@pages.get("/subscribe", response_class=HTMLResponse)
def subscribe_page(
    request: Request,
    viewer: ViewerDep,
    email: Annotated[str, Query(max_length=400)] = "",
) -> Response:
    form = {
        "email": email.strip() or (viewer.email if viewer else ""),
        "frequency": "daily",
        "hour_utc": service.DEFAULT_HOUR,
        **dict.fromkeys(TOPIC_KINDS, ""),
    }
    return _page(request, "subscribe.html", form=form)


@pages.post("/subscribe", response_class=HTMLResponse)
def subscribe_form(
    request: Request,
    background: BackgroundTasks,
    email: EmailText = "",
    frequency: Annotated[str, Form(max_length=20)] = "daily",
    hour_utc: Annotated[int, Form(ge=0, le=23)] = service.DEFAULT_HOUR,
    categories: TopicText = "",
    organizations: TopicText = "",
    keywords: TopicText = "",
    searches: TopicText = "",
    next: Next = "/subscribe/sent",
) -> Response:
    texts = {
        "categories": categories,
        "organizations": organizations,
        "keywords": keywords,
        "searches": searches,
    }
    try:
        topics = _form_topics(categories, organizations, keywords, searches)
        _subscribe(request, background, email, frequency, hour_utc, topics)
    except UserError as error:
        form = {"email": email, "frequency": frequency, "hour_utc": hour_utc, **texts}
        return _error_page(request, "subscribe.html", error, form=form)
    return RedirectResponse(safe_next(next, "/subscribe/sent"), status_code=303)


@pages.get("/subscribe/sent", response_class=HTMLResponse)
def subscribe_sent_page(request: Request) -> Response:
    return _page(request, "subscribe_done.html", state="sent", message=SENT)


@pages.get("/subscribe/confirm", response_class=HTMLResponse)
def confirm_page(request: Request, token: Annotated[str, Query(max_length=200)] = "") -> Response:
    """Shows what will be confirmed and a button; a GET never activates (mail scanners)."""
    with _context(request).engine.connect() as conn:
        subscription = service.pending_for_token(conn, token)
    response = render(
        request, "subscribe_done.html", state="confirm", token=token, subscription=subscription
    )
    response.headers.update(SECRET_PAGE)
    return response


@pages.post("/subscribe/confirm", response_class=HTMLResponse)
def confirm_form(request: Request, token: Annotated[str, Form(max_length=200)] = "") -> Response:
    with _context(request).engine.begin() as conn:
        service.confirm(conn, token)
    return RedirectResponse("/subscribe/confirmed", status_code=303)


@pages.get("/subscribe/confirmed", response_class=HTMLResponse)
def confirmed_page(request: Request) -> Response:
    return _page(request, "subscribe_done.html", state="confirmed")


# --- unsubscribing (pages; the POST is RFC 8058's one-click target) ---


@pages.get("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_page(request: Request, token: str) -> Response:
    """A button that POSTs: following the link alone never unsubscribes anybody."""
    with _context(request).engine.connect() as conn:
        subscription = service.by_unsubscribe_token(conn, token)
    response = render(
        request, "unsubscribe.html", token=token, subscription=subscription, done=False
    )
    response.headers.update(SECRET_PAGE)
    return response


@pages.post("/unsubscribe/{token}", response_class=HTMLResponse)
def unsubscribe_form(request: Request, token: str) -> Response:
    """One click: the body (``List-Unsubscribe=One-Click``) is not needed; the token is."""
    with _context(request).engine.begin() as conn:
        subscription = service.unsubscribe(conn, token)
    response = render(
        request, "unsubscribe.html", token=token, subscription=subscription, done=True
    )
    response.headers.update(SECRET_PAGE)
    return response


# --- a member's subscriptions (pages) ---


def _settings_page(request: Request, user: User, status_code: int = 200, **values: Any) -> Response:
    with _context(request).engine.connect() as conn:
        items = service.member_subscriptions(conn, user)
    values.setdefault("saved", request.query_params.get("saved"))
    return _page(
        request, "subscriptions.html", status_code, user=user, subscriptions=items, **values
    )


@pages.get("/settings/subscriptions", response_class=HTMLResponse)
def subscriptions_page(request: Request, user: UserDep) -> Response:
    return _settings_page(request, user)


@pages.post("/settings/subscriptions/{subscription_id}", response_class=HTMLResponse)
def subscription_update_form(
    request: Request,
    user: UserDep,
    subscription_id: int,
    frequency: Annotated[str, Form(max_length=20)] = "daily",
    hour_utc: Annotated[int, Form(ge=0, le=23)] = service.DEFAULT_HOUR,
    categories: TopicText = "",
    organizations: TopicText = "",
    keywords: TopicText = "",
    searches: TopicText = "",
    next: Next = "/settings/subscriptions?saved=1",
) -> Response:
    try:
        topics = _form_topics(categories, organizations, keywords, searches)
        with _context(request).engine.begin() as conn:
            service.update(
                conn, user, subscription_id, frequency=frequency, hour_utc=hour_utc, topics=topics
            )
    except UserError as error:
        return _settings_page(request, user, error.status_code, error=error.message)
    return RedirectResponse(safe_next(next, "/settings/subscriptions?saved=1"), status_code=303)


@pages.post("/settings/subscriptions/{subscription_id}/cancel", response_class=HTMLResponse)
def subscription_cancel_form(
    request: Request,
    user: UserDep,
    subscription_id: int,
    next: Next = "/settings/subscriptions?saved=cancelled",
) -> Response:
    with _context(request).engine.begin() as conn:
        service.cancel(conn, user, subscription_id)
    return RedirectResponse(
        safe_next(next, "/settings/subscriptions?saved=cancelled"), status_code=303
    )


# --- JSON twins ---


class TopicsBody(BaseModel):
    categories: list[str] = Field(default_factory=list, max_length=100)
    organizations: list[str] = Field(default_factory=list, max_length=100)
    keywords: list[str] = Field(default_factory=list, max_length=100)
    searches: list[str] = Field(default_factory=list, max_length=100)


class SubscribeBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    email: str = Field(max_length=400)
    frequency: Literal["daily", "weekly"] = "daily"
    hour_utc: int = Field(default=service.DEFAULT_HOUR, ge=0, le=23, alias="hourUtc")
    topics: TopicsBody = Field(default_factory=TopicsBody)


class SubscriptionPatch(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    frequency: Literal["daily", "weekly"] | None = None
    hour_utc: int | None = Field(default=None, ge=0, le=23, alias="hourUtc")
    topics: TopicsBody | None = None


class ConfirmBody(BaseModel):
    token: str = Field(max_length=200, description="The token from the emailed link.")


@api.post(
    "/subscriptions",
    summary="Subscribe an email address to the digest (mails a confirm link; same answer "
    "for every address)",
    status_code=202,
)
def subscribe_api(
    request: Request, body: SubscribeBody, background: BackgroundTasks
) -> dict[str, str]:
    _subscribe(
        request, background, body.email, body.frequency, body.hour_utc, body.topics.model_dump()
    )
    return {"detail": SENT}


@api.post("/subscriptions/confirm", summary="Confirm a subscription with its emailed token")
def confirm_api(request: Request, body: ConfirmBody) -> dict[str, Any]:
    with _context(request).engine.begin() as conn:
        return subscription_json(service.confirm(conn, body.token))


@api.get("/subscriptions", summary="The signed-in member's pending and active subscriptions")
def subscriptions_api(request: Request, user: UserDep) -> list[dict[str, Any]]:
    with _context(request).engine.connect() as conn:
        return [subscription_json(item) for item in service.member_subscriptions(conn, user)]


@api.get("/subscriptions/{subscription_id}", summary="One of the member's subscriptions")
def subscription_api(request: Request, user: UserDep, subscription_id: int) -> dict[str, Any]:
    with _context(request).engine.connect() as conn:
        return subscription_json(service.member_subscription(conn, user, subscription_id))


@api.patch(
    "/subscriptions/{subscription_id}",
    summary="Change a subscription's frequency, hour or topics",
)
def subscription_patch_api(
    request: Request, user: UserDep, subscription_id: int, body: SubscriptionPatch
) -> dict[str, Any]:
    with _context(request).engine.begin() as conn:
        updated = service.update(
            conn,
            user,
            subscription_id,
            frequency=body.frequency,
            hour_utc=body.hour_utc,
            topics=body.topics.model_dump() if body.topics is not None else None,
        )
    return subscription_json(updated)


@api.delete("/subscriptions/{subscription_id}", summary="Cancel a subscription", status_code=204)
def subscription_delete_api(request: Request, user: UserDep, subscription_id: int) -> Response:
    with _context(request).engine.begin() as conn:
        service.cancel(conn, user, subscription_id)
    return Response(status_code=204)


router.include_router(pages)
router.include_router(api)
