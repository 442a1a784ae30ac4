"""Who is asking: the signed-in viewer (session cookie or API token) and role checks.

A request is signed in by a session cookie (pages, and the pages' own scripts) or by an
``Authorization: Bearer pw_...`` API token (scripts). A bearer token, when present, is the
only credential looked at: a wrong one is a 401, never a fall-back to the cookie.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import Response

from paperwire.accounts import service as accounts
from paperwire.context import Context
from paperwire.errors import Forbidden, NotSignedIn
from paperwire.models import User

SESSION_COOKIE = "pw_session"
_UNSET = object()


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def current_viewer(request: Request) -> User | None:
    """The signed-in user of this request (looked up once, then kept on the request)."""
    found = getattr(request.state, "viewer", _UNSET)
    if found is not _UNSET:
        return found  # type: ignore[return-value]
    context: Context = request.app.state.context
    viewer: User | None = None
    token = bearer_token(request)
    if token is not None:
        viewer = accounts.api_token_user(context.engine, token[:200])
        if viewer is None:
            request.state.viewer = None
            raise NotSignedIn("The API token is not valid (revoked or mistyped).")
    elif cookie := request.cookies.get(SESSION_COOKIE):
        with context.engine.connect() as conn:
            viewer = accounts.session_user(conn, cookie[:200])
    request.state.viewer = viewer
    return viewer


def get_viewer(request: Request) -> User | None:
    return current_viewer(request)


def require_user(viewer: Annotated[User | None, Depends(get_viewer)]) -> User:
    if viewer is None:
        raise NotSignedIn("Sign in first (or send an API token).")
    return viewer


def require_curator(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_curator:
        raise Forbidden("Only curators can do this.")
    return user


def require_admin(user: Annotated[User, Depends(require_user)]) -> User:
    if not user.is_admin:
        raise Forbidden("Only admins can do this.")
    return user


ViewerDep = Annotated[User | None, Depends(get_viewer)]
UserDep = Annotated[User, Depends(require_user)]
CuratorDep = Annotated[User, Depends(require_curator)]
AdminDep = Annotated[User, Depends(require_admin)]


def is_https(request: Request) -> bool:
    context: Context = request.app.state.context
    return request.url.scheme == "https" or context.settings.https


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    context: Context = request.app.state.context
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=context.settings.session_days * 86400,
        path="/",
        httponly=True,
        secure=is_https(request),
        samesite="lax",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=is_https(request), samesite="lax"
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site path to go to after a form; anything else (an open redirect) is refused.

    Only paths that start with one ``/`` qualify: ``//evil.example``, ``/\\evil``,
    ``https://...`` and control characters all fall back to ``default``.
    """
    if not target or len(target) > 2000:
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x20 or c == "\\" for c in target):
        return default
    return target
