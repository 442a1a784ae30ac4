"""Routes: accounts (pages, form posts and their JSON twins under /api).

Sign-up, log-in, log-out, password reset by emailed link and settings (password, display
name); API tokens (:mod:`paperwire.web.tokens`) and profiles (:mod:`paperwire.web.profiles`)
are included in this router. Every form works without JavaScript and answers ``303``;
every action also has a JSON route. Rate limits are counted before the action, so that a
refused or failed attempt (a wrong password) still counts.
"""

from __future__ import annotations

from typing import Annotated, Any, cast
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire import ratelimit
from paperwire.accounts import service as accounts
from paperwire.context import Context
from paperwire.email import messages
from paperwire.email.sender import Mailer, deliver
from paperwire.errors import RateLimited, UserError
from paperwire.models import User
from paperwire.web import profiles as profile_routes
from paperwire.web import tokens as token_routes
from paperwire.web.auth import (
    SESSION_COOKIE,
    UserDep,
    ViewerDep,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)
from paperwire.web.pages import render
from paperwire.web.profiles import user_json

router = APIRouter()
pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["accounts"])

LOGIN_FAILED = "Wrong username/email or password."
RESET_SENT = "If an account has this email address, a link to reset its password is on its way."
PASSWORDS_DIFFER = "The two new passwords differ; type the same one twice."
NO_STORE = {"Cache-Control": "no-store"}
# A reset link carries its token in the URL: keep it out of Referer headers and caches.
SECRET_PAGE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

Text = Annotated[str, Form(max_length=1024)]
Next = Annotated[str, Form(max_length=2000)]
PageIndex = Annotated[int, Query(ge=0, le=10_000, description="Page number, from 0.")]


# --- shared steps: the pages and the JSON API call the same ones ---


def _context(request: Request) -> Context:
    return cast(Context, request.app.state.context)


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _mailer(request: Request) -> Mailer:
    """The app's mail sender (SMTP, or the log): see context.py."""
    return _context(request).mailer


def _limit(request: Request, action: str, limits: list[tuple[str, str]]) -> None:
    context = _context(request)
    ratelimit.check(context.engine, action, limits, enabled=context.settings.rate_limits)


def _sign_up(
    request: Request, username: str, email: str, password: str, display_name: str | None
) -> tuple[User, str]:
    context = _context(request)
    _limit(
        request, "sign-up", [(context.settings.rate_limit_signup_ip, f"ip:{_client_ip(request)}")]
    )
    with context.engine.begin() as conn:
        user = accounts.sign_up(
            conn, username=username, email=email, password=password, display_name=display_name
        )
        if old := request.cookies.get(SESSION_COOKIE):  # a session of another account ends
            accounts.end_session(conn, old[:200])
        return user, accounts.start_session(conn, user, context.settings.session_days)


def _log_in(request: Request, login: str, password: str) -> tuple[User, str]:
    """A fresh session for the account; one message for every failure, whichever part."""
    context = _context(request)
    settings = context.settings
    account_key = " ".join(login.split()).casefold()[:150]
    _limit(
        request,
        "log-in",
        [
            (settings.rate_limit_login, f"login:{account_key}"),
            (settings.rate_limit_login_ip, f"ip:{_client_ip(request)}"),
        ],
    )
    with context.engine.begin() as conn:
        user = accounts.authenticate(conn, login, password)
        if user is None:
            raise UserError(LOGIN_FAILED)
        # rotate: whatever session the browser held before ends, a new token is issued
        if old := request.cookies.get(SESSION_COOKIE):
            accounts.end_session(conn, old[:200])
        return user, accounts.start_session(conn, user, settings.session_days)


def _log_out(request: Request) -> None:
    if token := request.cookies.get(SESSION_COOKIE):
        with _context(request).engine.begin() as conn:
            accounts.end_session(conn, token[:200])


def _request_reset(request: Request, email: str, background: BackgroundTasks) -> None:
    """Mail a reset link if an account has ``email``; the caller answers the same anyway.

    The mail goes out after the response (a background task), outside the transaction;
    a failure is logged, never shown: that would tell who has an account.
    """
    context = _context(request)
    settings = context.settings
    rule = settings.rate_limit_password_reset
    key = " ".join(email.split()).casefold()[:150]
    _limit(request, "password-reset", [(rule, f"ip:{_client_ip(request)}"), (rule, f"email:{key}")])
    email = accounts.check_email(email)
    with context.engine.begin() as conn:
        found = accounts.request_password_reset(conn, email, settings.password_reset_minutes)
    if found is None:
        return
    user, token = found
    link = f"{settings.base_url.rstrip('/')}/reset-password?{urlencode({'token': token})}"
    background.add_task(deliver, _mailer(request), messages.password_reset(settings, user, link))


def _reset(request: Request, token: str, password: str) -> tuple[User, str]:
    """Use a reset token: new password, every old session ends, a new one starts."""
    context = _context(request)
    with context.engine.begin() as conn:
        user = accounts.reset_password(conn, token[:200], password)
        return user, accounts.start_session(conn, user, context.settings.session_days)


def _change_password(request: Request, user: User, current: str, new: str) -> str:
    """Change the password and sign out everywhere; the new session for this browser."""
    context = _context(request)
    settings = context.settings
    _limit(request, "password-change", [(settings.rate_limit_login, f"user:{user.id}")])
    with context.engine.begin() as conn:
        accounts.change_password(conn, user, current, new)
        accounts.end_all_sessions(conn, user)
        return accounts.start_session(conn, user, settings.session_days)


def _signed_in(request: Request, response: Response, token: str) -> Response:
    set_session_cookie(request, response, token)
    return response


def _form_error(request: Request, template: str, error: UserError, **values: Any) -> HTMLResponse:
    """The form again, with the message and the error's status (429: with Retry-After)."""
    response = render(
        request, template, status_code=error.status_code, error=error.message, **values
    )
    if isinstance(error, RateLimited):
        response.headers["Retry-After"] = str(error.retry_after)
    response.headers.update(NO_STORE)
    return response


# --- sign-up, log-in, log-out ---


@pages.get("/signup", response_class=HTMLResponse)
def signup_page(request: Request, viewer: ViewerDep, next: str = "/") -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signup.html", next=safe_next(next), form={})


@pages.post("/signup", response_class=HTMLResponse)
def signup_form(
    request: Request,
    username: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=400)] = "",
    password: Text = "",
    display_name: Annotated[str, Form(max_length=400)] = "",
    next: Next = "/",
) -> Response:
    form = {"username": username, "email": email, "display_name": display_name}
    try:
        _user, token = _sign_up(request, username, email, password, display_name)
    except UserError as error:
        return _form_error(request, "signup.html", error, form=form, next=safe_next(next))
    return _signed_in(request, RedirectResponse(safe_next(next), status_code=303), token)


@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request, viewer: ViewerDep, next: str = "/") -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), login="")


@pages.post("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    login: Annotated[str, Form(max_length=400)] = "",
    password: Text = "",
    next: Next = "/",
) -> Response:
    try:
        _user, token = _log_in(request, login, password)
    except UserError as error:
        return _form_error(request, "login.html", error, login=login, next=safe_next(next))
    return _signed_in(request, RedirectResponse(safe_next(next), status_code=303), token)


@pages.post("/logout")
def logout_form(request: Request, next: Next = "/") -> Response:
    _log_out(request)
    response = RedirectResponse(safe_next(next), status_code=303)
    clear_session_cookie(request, response)
    return response


# --- password reset ---


@pages.get("/forgot-password", response_class=HTMLResponse)
def forgot_password_page(request: Request) -> Response:
    return render(request, "forgot_password.html", sent=False, email="")


@pages.post("/forgot-password", response_class=HTMLResponse)
def forgot_password_form(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=400)] = "",
) -> Response:
    try:
        _request_reset(request, email, background)
    except UserError as error:
        return _form_error(request, "forgot_password.html", error, sent=False, email=email)
    minutes = _context(request).settings.password_reset_minutes
    return render(
        request, "forgot_password.html", sent=True, email="", message=RESET_SENT, minutes=minutes
    )


@pages.get("/reset-password", response_class=HTMLResponse)
def reset_password_page(
    request: Request, token: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    response = render(request, "reset_password.html", token=token)
    response.headers.update(SECRET_PAGE)
    return response


@pages.post("/reset-password", response_class=HTMLResponse)
def reset_password_form(
    request: Request,
    token: Annotated[str, Form(max_length=200)] = "",
    password: Text = "",
    password_confirm: Text = "",
) -> Response:
    try:
        if password != password_confirm:
            raise UserError(PASSWORDS_DIFFER)
        _user, session = _reset(request, token, password)
    except UserError as error:
        response = _form_error(request, "reset_password.html", error, token=token)
        response.headers.update(SECRET_PAGE)
        return response
    return _signed_in(request, RedirectResponse("/", status_code=303), session)


# --- settings: display name, password ---


def _settings_page(request: Request, user: User, status_code: int = 200, **values: Any) -> Response:
    values.setdefault("saved", request.query_params.get("saved"))
    response = render(request, "settings.html", status_code=status_code, user=user, **values)
    response.headers.update(NO_STORE)
    return response


@pages.get("/settings", response_class=HTMLResponse)
def settings_page(request: Request, user: UserDep) -> Response:
    return _settings_page(request, user)


@pages.post("/settings/profile", response_class=HTMLResponse)
def settings_profile_form(
    request: Request,
    user: UserDep,
    display_name: Annotated[str, Form(max_length=400)] = "",
    next: Next = "/settings?saved=profile",
) -> Response:
    try:
        with _context(request).engine.begin() as conn:
            accounts.set_display_name(conn, user, display_name)
    except UserError as error:
        return _settings_page(
            request, user, error.status_code, profile_error=error.message, display_name=display_name
        )
    return RedirectResponse(safe_next(next, "/settings?saved=profile"), status_code=303)


@pages.post("/settings/password", response_class=HTMLResponse)
def settings_password_form(
    request: Request,
    user: UserDep,
    current_password: Text = "",
    new_password: Text = "",
    new_password_confirm: Text = "",
    next: Next = "/settings?saved=password",
) -> Response:
    try:
        if new_password != new_password_confirm:
            raise UserError(PASSWORDS_DIFFER)
        token = _change_password(request, user, current_password, new_password)
    except UserError as error:
        response = _settings_page(request, user, error.status_code, password_error=error.message)
        if isinstance(error, RateLimited):
            response.headers["Retry-After"] = str(error.retry_after)
        return response
    response = RedirectResponse(safe_next(next, "/settings?saved=password"), status_code=303)
    return _signed_in(request, response, token)


# --- JSON twins ---


class SignupBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    username: str = Field(max_length=200)
    email: str = Field(max_length=400)
    password: str = Field(max_length=1024)
    display_name: str | None = Field(default=None, max_length=400, alias="displayName")


class LoginBody(BaseModel):
    login: str = Field(max_length=400, description="Username (any case) or email address.")
    password: str = Field(max_length=1024)


class ResetRequestBody(BaseModel):
    email: str = Field(max_length=400)


class ResetConfirmBody(BaseModel):
    token: str = Field(max_length=200, description="The token from the emailed link.")
    password: str = Field(max_length=1024, description="The new password.")


class PasswordChangeBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    current_password: str = Field(max_length=1024, alias="currentPassword")
    new_password: str = Field(max_length=1024, alias="newPassword")


class ProfileBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    display_name: str | None = Field(default=None, max_length=400, alias="displayName")


@api.post("/auth/signup", summary="Create an account and sign in (sets the session cookie)")
def signup_api(request: Request, body: SignupBody) -> Response:
    user, token = _sign_up(request, body.username, body.email, body.password, body.display_name)
    response = JSONResponse(user_json(user, private=True), status_code=201)
    return _signed_in(request, response, token)


@api.post("/auth/login", summary="Sign in with username or email (sets the session cookie)")
def login_api(request: Request, body: LoginBody) -> Response:
    user, token = _log_in(request, body.login, body.password)
    return _signed_in(request, JSONResponse(user_json(user, private=True)), token)


@api.post("/auth/logout", summary="End this session and clear its cookie")
def logout_api(request: Request) -> Response:
    _log_out(request)
    response = JSONResponse({"signedIn": False})
    clear_session_cookie(request, response)
    return response


@api.get("/auth/csrf", summary="The CSRF token to send as X-CSRF-Token with this cookie")
def csrf_api(request: Request) -> Response:
    """Sets the visitor's CSRF cookie if it has none; send both back on unsafe requests."""
    return JSONResponse({"csrfToken": request.state.csrf_token}, headers=NO_STORE)


@api.post(
    "/auth/password-reset",
    summary="Email a password-reset link (same answer whether or not the account exists)",
    status_code=202,
)
def password_reset_api(
    request: Request, body: ResetRequestBody, background: BackgroundTasks
) -> dict[str, str]:
    _request_reset(request, body.email, background)
    return {"detail": RESET_SENT}


@api.post(
    "/auth/password-reset/confirm",
    summary="Set a new password with an emailed token; ends every session, signs in anew",
)
def password_reset_confirm_api(request: Request, body: ResetConfirmBody) -> Response:
    user, token = _reset(request, body.token, body.password)
    return _signed_in(request, JSONResponse(user_json(user, private=True)), token)


@api.get("/me", summary="The signed-in account (with its email)")
def me_api(user: UserDep) -> dict[str, Any]:
    return user_json(user, private=True)


@api.patch("/me", summary="Change the display name")
def me_update_api(request: Request, user: UserDep, body: ProfileBody) -> dict[str, Any]:
    with _context(request).engine.begin() as conn:
        return user_json(accounts.set_display_name(conn, user, body.display_name), private=True)


@api.post("/me/password", summary="Change the password; every session ends (this one renews)")
def me_password_api(request: Request, user: UserDep, body: PasswordChangeBody) -> Response:
    token = _change_password(request, user, body.current_password, body.new_password)
    response = JSONResponse({"detail": "Password changed."})
    if SESSION_COOKIE in request.cookies:  # a browser: keep it signed in with a new session
        set_session_cookie(request, response, token)
    return response


router.include_router(pages)
router.include_router(api)
router.include_router(profile_routes.router)
router.include_router(token_routes.router)
