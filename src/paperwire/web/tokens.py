"""Routes: API tokens, on the settings page and under ``/api/tokens``.

Included by :mod:`paperwire.web.accounts`' router. A new token's secret is shown once,
in the answer that creates it; only its SHA-256 is stored.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, Engine

from paperwire.accounts import service as accounts
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.models import User
from paperwire.web.auth import UserDep, safe_next
from paperwire.web.deps import ConnDep
from paperwire.web.pages import render
from paperwire.web.serialize import iso

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store"}
TokenId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The token's id.")]


def _engine(request: Request) -> Engine:
    context: Context = request.app.state.context
    return context.engine


def _tokens_page(
    request: Request, conn: Connection, user: User, status_code: int = 200, **values: Any
) -> Response:
    response = render(
        request,
        "tokens.html",
        status_code=status_code,
        tokens=accounts.api_tokens(conn, user),
        max_tokens=accounts.MAX_API_TOKENS,
        **values,
    )
    response.headers.update(NO_STORE)  # the one page that shows a new token's secret
    return response


@router.get("/settings/tokens", response_class=HTMLResponse, include_in_schema=False)
def tokens_page(request: Request, user: UserDep, conn: ConnDep) -> Response:
    return _tokens_page(request, conn, user)


@router.post("/settings/tokens", response_class=HTMLResponse, include_in_schema=False)
def tokens_create_form(
    request: Request, user: UserDep, name: Annotated[str, Form(max_length=400)] = ""
) -> Response:
    engine = _engine(request)
    try:
        with engine.begin() as conn:
            created = accounts.create_limited_api_token(conn, user, name)
    except UserError as error:
        with engine.connect() as conn:
            return _tokens_page(request, conn, user, error.status_code, error=error.message)
    with engine.connect() as conn:
        # answered here, not redirected: the secret is shown this once and never again
        return _tokens_page(request, conn, user, 201, new_token=created)


@router.post("/settings/tokens/{token_id}/delete", include_in_schema=False)
def tokens_delete_form(
    request: Request,
    user: UserDep,
    token_id: TokenId,
    next: Annotated[str, Form(max_length=2000)] = "/settings/tokens",
) -> Response:
    with _engine(request).begin() as conn:
        accounts.revoke_api_token(conn, user, token_id)
    return RedirectResponse(safe_next(next, "/settings/tokens"), status_code=303)


class TokenBody(BaseModel):
    name: str = Field(default="", max_length=400, description="A label, e.g. the script's name.")


def _token_json(token: accounts.ApiTokenInfo) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "createdAt": iso(token.created_at),
        "lastUsedAt": iso(token.last_used_at),
    }


@router.get(
    "/api/tokens",
    summary="My API tokens (names and prefixes; never the secrets)",
    tags=["accounts"],
)
def tokens_api(user: UserDep, conn: ConnDep) -> list[dict[str, Any]]:
    return [_token_json(token) for token in accounts.api_tokens(conn, user)]


@router.post(
    "/api/tokens",
    summary="Create an API token; its secret is in this answer only",
    status_code=201,
    tags=["accounts"],
)
def token_create_api(request: Request, user: UserDep, body: TokenBody) -> dict[str, Any]:
    with _engine(request).begin() as conn:
        created = accounts.create_limited_api_token(conn, user, body.name)
    return {"id": created.id, "name": created.name, "token": created.token}


@router.delete(
    "/api/tokens/{token_id}", summary="Revoke an API token", status_code=204, tags=["accounts"]
)
def token_delete_api(request: Request, user: UserDep, token_id: TokenId) -> Response:
    with _engine(request).begin() as conn:
        accounts.revoke_api_token(conn, user, token_id)
    return Response(status_code=204)
