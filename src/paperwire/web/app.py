"""The app factory: ``create_app(settings)``; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from paperwire import __version__
from paperwire.config import Settings, load_settings
from paperwire.context import build_context
from paperwire.errors import NotSignedIn, RateLimited, UserError
from paperwire.web import (
    accounts,
    admin,
    api,
    comments,
    digest,
    feeds,
    pages,
    people,
    search,
    subscribe,
    votes,
)
from paperwire.web.auth import safe_next
from paperwire.web.cache import ResponseCache
from paperwire.web.concurrency import ConcurrencyLimit
from paperwire.web.csrf import CsrfMiddleware
from paperwire.web.templating import make_templates

STATIC_DIR = Path(__file__).parent / "static"


def create_app(settings: Settings) -> FastAPI:
    context = build_context(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        context.close()

    app = FastAPI(
        title=settings.site_name,
        version=__version__,
        description="A self-hosted, community-curated research-paper feed.",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
    )
    app.state.context = context
    app.state.templates = make_templates(settings)
    app.state.response_cache = ResponseCache()
    app.add_middleware(
        CsrfMiddleware,
        secret_key=settings.secret_key,
        base_url=settings.base_url,
        secure_cookie=settings.https,
        exempt=subscribe.CSRF_EXEMPT,  # RFC 8058 one-click unsubscribe posts
    )
    if not settings.is_sqlite:  # SQLite connections are cheap and unlimited
        app.add_middleware(ConcurrencyLimit, database_connections=settings.database_connections)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    # before api and pages: their /papers/{paper_id:path} would swallow these paths
    for routes in (accounts, votes, comments, people, digest, subscribe):
        app.include_router(routes.router)
    admin.install(app)  # the sync admin page and the footer's "last synced" line
    app.include_router(search.router)  # before api: /api/papers/search is not a paper id
    app.include_router(api.router)
    app.include_router(feeds.router)
    app.include_router(pages.router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return pages.error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> Response:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, RateLimited) else {}
        if _wants_json(request):
            return JSONResponse(
                {"detail": exc.message}, status_code=exc.status_code, headers=headers
            )
        if isinstance(exc, NotSignedIn) and request.method == "GET":
            target = safe_next(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        response = pages.error_page(request, exc.status_code, exc.message)
        response.headers.update(headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        reasons = [
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": "; ".join(reasons)}, status_code=422)
        return pages.error_page(request, 422, "; ".join(reasons))

    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/openapi.json"


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory``: settings from ``PAPERWIRE_*`` environment variables."""
    return create_app(load_settings())
