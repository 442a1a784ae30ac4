"""CSRF protection for every state-changing request (an ASGI middleware).

A POST, PUT, PATCH or DELETE passes only when

1. the browser does not call it cross-site: ``Sec-Fetch-Site``, when sent, is
   ``same-origin`` or ``none``, and ``Origin``, when sent, is this site's; and
2. it carries the visitor's CSRF token, in the ``X-CSRF-Token`` header or the
   ``csrf_token`` field of a form. The token is an HMAC of a random ``pw_csrf`` cookie
   (signed double-submit), so it needs no server-side state and works in every process.

Requests that authenticate with an API token (``Authorization: Bearer``) skip step 2:
a browser never adds that header on its own, so a cross-site page cannot forge one.
Paths listed in ``exempt`` (one-click unsubscribe links, by design) skip both steps.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from paperwire.accounts.secrets import same, sign

CSRF_COOKIE = "pw_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
MAX_FORM_BYTES = 1024 * 1024
ALLOWED_FETCH_SITES = frozenset({"same-origin", "none"})


class CsrfMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        secret_key: str,
        base_url: str,
        secure_cookie: bool,
        exempt: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.secret_key = secret_key
        self.base_origin = _origin_of(base_url)
        self.secure_cookie = secure_cookie
        self.exempt = tuple(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        cookie = _cookie(headers, CSRF_COOKIE)
        new_cookie = None
        if cookie is None or not 20 <= len(cookie) <= 100:
            cookie = new_cookie = secrets.token_urlsafe(32)
        token = sign(self.secret_key, cookie)
        scope.setdefault("state", {})["csrf_token"] = token
        send = self._setting_cookie(send, new_cookie, scope) if new_cookie else send

        path: str = scope["path"]
        if scope["method"] in SAFE_METHODS or path.startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        reason = self._cross_site_reason(scope, headers)
        if reason is None and not _has_bearer(headers):
            sent, receive = await self._sent_token(headers, receive)
            if new_cookie is not None:
                reason = "no CSRF cookie was sent; reload the page and try again"
            elif sent is None:
                reason = "the CSRF token is missing; reload the page and try again"
            elif not same(sent, token):
                reason = "the CSRF token is wrong or stale; reload the page and try again"
        if reason is not None:
            await _refuse(scope, send, f"Cross-site request refused: {reason}.")
            return
        await self.app(scope, receive, send)

    def _cross_site_reason(self, scope: Scope, headers: Headers) -> str | None:
        site = headers.get("sec-fetch-site")
        if site is not None and site not in ALLOWED_FETCH_SITES:
            return f"Sec-Fetch-Site is {site[:40]!r}"
        origin = headers.get("origin")
        if origin is not None and origin not in self._own_origins(scope, headers):
            return f"Origin {origin[:100]!r} is not this site"
        return None

    def _own_origins(self, scope: Scope, headers: Headers) -> set[str]:
        host = headers.get("host", "")
        return {self.base_origin, f"{scope.get('scheme', 'http')}://{host}"}

    async def _sent_token(self, headers: Headers, receive: Receive) -> tuple[str | None, Receive]:
        """The token from the header or the form body; the body is replayed to the app."""
        if header := headers.get(CSRF_HEADER):
            return header, receive
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return None, receive
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_FORM_BYTES:
                return None, receive
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        values = parse_qs(body.decode("latin-1"), max_num_fields=1000).get(CSRF_FIELD)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return (values[0] if values else None), replay

    def _setting_cookie(self, send: Send, value: str, scope: Scope) -> Send:
        secure = self.secure_cookie or scope.get("scheme") == "https"
        cookie = f"{CSRF_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax" + (
            "; Secure" if secure else ""
        )

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"set-cookie", cookie.encode())]
            await send(message)

        return wrapped


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/')[0]}"


def _cookie(headers: Headers, name: str) -> str | None:
    raw = headers.get("cookie")
    if not raw:
        return None
    try:
        jar = SimpleCookie(raw)
    except Exception:  # a malformed Cookie header: treat as no cookie
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def _has_bearer(headers: Headers) -> bool:
    return headers.get("authorization", "").lower().startswith("bearer ")


async def _refuse(scope: Scope, send: Send, reason: str) -> None:
    if scope["path"].startswith("/api/"):
        body, media = orjson.dumps({"detail": reason}), b"application/json"
    else:
        body = (
            "<!doctype html><title>Refused</title><h1>403: request refused</h1>"
            f"<p>{html.escape(reason)}</p><p><a href='/'>Home</a></p>"
        ).encode()
        media = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", media), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
