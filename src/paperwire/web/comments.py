"""Routes: comments (form posts for the paper page and their JSON twins under /api).

Every form works without JavaScript: it posts, the comment changes, and a ``303`` takes
the browser back to the paper page at the comment (``#comment-N``). Errors (an empty
comment, a rate limit) come back as an error page saying what went wrong.
"""

from __future__ import annotations

from typing import Annotated, Any, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from paperwire.community import comments as service
from paperwire.community.comments import CommentView
from paperwire.context import Context
from paperwire.errors import UserError
from paperwire.feed.service import canonical_paper_id
from paperwire.web.auth import CuratorDep, UserDep, ViewerDep, safe_next
from paperwire.web.cache import cached
from paperwire.web.deps import ConnDep
from paperwire.web.serialize import iso
from paperwire.web.urls import paper_path

router = APIRouter()
api = APIRouter(prefix="/api", tags=["comments"])
forms = APIRouter(include_in_schema=False)

# The service gives the clear message for a body over 10,000 characters; this only
# bounds what is parsed at all.
MAX_FIELD = 200_000
Body = Annotated[str, Form(max_length=MAX_FIELD)]
Next = Annotated[str, Form(max_length=2000)]


def _context(request: Request) -> Context:
    return cast(Context, request.app.state.context)


def _client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def comment_json(view: CommentView) -> dict[str, Any]:
    """A comment and its replies; ``body`` (the Markdown) only for its author."""
    found: dict[str, Any] = {
        "id": view.id,
        "paperId": view.paper_id,
        "parentId": view.parent_id,
        "author": (
            {
                "username": view.author.username,
                "name": view.author.name,
                "isPaperAuthor": view.author.is_paper_author,
            }
            if view.author
            else None
        ),
        "bodyHtml": str(view.body_html) if view.body_html is not None else None,
        "createdAt": iso(view.created_at),
        "editedAt": iso(view.edited_at),
        "deleted": view.deleted,
        "hidden": view.hidden,
        "replies": [comment_json(reply) for reply in view.replies],
    }
    if view.body is not None:
        found["body"] = view.body
    return found


# --- JSON ------------------------------------------------------------------------------


class NewCommentBody(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    body: str = Field(
        max_length=MAX_FIELD, description="Markdown, with $inline$ and $$display$$ math."
    )
    parent_id: int | None = Field(
        default=None, alias="parentId", description="The comment this one replies to."
    )


class EditCommentBody(BaseModel):
    body: str = Field(max_length=MAX_FIELD, description="The new Markdown text.")


@api.get(
    "/papers/{paper_id:path}/comments",
    summary="A paper's comments, as a tree of threads",
    response_model=dict[str, Any],
)
def list_comments(request: Request, conn: ConnDep, viewer: ViewerDep, paper_id: str) -> Response:
    """Placeholders stand for deleted comments that have replies and, except for their
    authors and curators, for hidden ones (no author, no text)."""

    def build() -> Response:
        threads = service.paper_thread(conn, paper_id, viewer)
        visible = sum(
            1 for top in threads for node in top.walk() if not (node.deleted or node.hidden)
        )
        return JSONResponse(
            {
                "paperId": canonical_paper_id(paper_id),
                "count": visible,
                "comments": [comment_json(top) for top in threads],
            }
        )

    return cached(request, conn, build)


@api.post(
    "/papers/{paper_id:path}/comments",
    summary="Comment on a paper, or reply to one of its comments",
    status_code=201,
    response_model=dict[str, Any],
)
def create_comment_api(
    request: Request, user: UserDep, paper_id: str, body: NewCommentBody
) -> Response:
    context = _context(request)
    view = service.create(
        context.engine,
        context.settings,
        user,
        paper_id,
        body.body,
        parent_id=body.parent_id,
        ip=_client_ip(request),
    )
    return JSONResponse(comment_json(view), status_code=201)


@api.patch("/comments/{comment_id}", summary="Edit your own comment", response_model=dict[str, Any])
def edit_comment_api(
    request: Request, user: UserDep, comment_id: int, body: EditCommentBody
) -> dict[str, Any]:
    context = _context(request)
    view = service.edit(
        context.engine, context.settings, user, comment_id, body.body, ip=_client_ip(request)
    )
    return comment_json(view)


@api.delete(
    "/comments/{comment_id}", summary="Delete your own comment", response_model=dict[str, Any]
)
def delete_comment_api(request: Request, user: UserDep, comment_id: int) -> dict[str, Any]:
    return comment_json(service.delete(_context(request).engine, user, comment_id))


@api.post(
    "/comments/{comment_id}/hide",
    summary="Hide a comment from readers (curators)",
    response_model=dict[str, Any],
)
def hide_comment_api(request: Request, user: CuratorDep, comment_id: int) -> dict[str, Any]:
    return comment_json(service.set_hidden(_context(request).engine, user, comment_id, hidden=True))


@api.post(
    "/comments/{comment_id}/unhide",
    summary="Show a hidden comment again (curators)",
    response_model=dict[str, Any],
)
def unhide_comment_api(request: Request, user: CuratorDep, comment_id: int) -> dict[str, Any]:
    return comment_json(
        service.set_hidden(_context(request).engine, user, comment_id, hidden=False)
    )


# --- forms (no JavaScript needed) --------------------------------------------------------


def _back(next_path: str, view: CommentView, *, shown: bool = True) -> RedirectResponse:
    """303 to the page the form was on, at the comment (or where it was)."""
    page = safe_next(next_path.partition("#")[0], default=paper_path(view.paper_id))
    if shown:
        anchor = f"comment-{view.id}"
    else:
        anchor = f"comment-{view.parent_id}" if view.parent_id else "discussion"
    return RedirectResponse(f"{page}#{anchor}", status_code=303)


def _parent(value: str | None) -> int | None:
    value = (value or "").strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise UserError("The comment to reply to is not a comment id.")
    return int(value)


@forms.post("/papers/{paper_id:path}/comments")
def create_comment_form(
    request: Request,
    user: UserDep,
    paper_id: str,
    body: Body = "",
    parent_id: Annotated[str | None, Form(max_length=40)] = None,
    next: Next = "",
) -> Response:
    context = _context(request)
    view = service.create(
        context.engine,
        context.settings,
        user,
        paper_id,
        body,
        parent_id=_parent(parent_id),
        ip=_client_ip(request),
    )
    return _back(next, view)


@forms.post("/comments/{comment_id}/edit")
def edit_comment_form(
    request: Request, user: UserDep, comment_id: int, body: Body = "", next: Next = ""
) -> Response:
    context = _context(request)
    view = service.edit(
        context.engine, context.settings, user, comment_id, body, ip=_client_ip(request)
    )
    return _back(next, view)


@forms.post("/comments/{comment_id}/delete")
def delete_comment_form(
    request: Request, user: UserDep, comment_id: int, next: Next = ""
) -> Response:
    view = service.delete(_context(request).engine, user, comment_id)
    # the placeholder stays only while replies hang from it
    return _back(next, view, shown=bool(view.replies))


@forms.post("/comments/{comment_id}/hide")
def hide_comment_form(
    request: Request, user: CuratorDep, comment_id: int, next: Next = ""
) -> Response:
    view = service.set_hidden(_context(request).engine, user, comment_id, hidden=True)
    return _back(next, view)


@forms.post("/comments/{comment_id}/unhide")
def unhide_comment_form(
    request: Request, user: CuratorDep, comment_id: int, next: Next = ""
) -> Response:
    view = service.set_hidden(_context(request).engine, user, comment_id, hidden=False)
    return _back(next, view)


router.include_router(api)
router.include_router(forms)
