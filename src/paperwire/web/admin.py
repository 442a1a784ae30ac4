"""Routes: the admin page of sync sources (and its JSON twin), "Sync now", the footer line.

``/admin/sources`` shows, per source (arXiv API, arXiv OAI-PMH, Hugging Face), whether
it is followed, its configuration, its last run, counts, error and cursor; the job queue
at a glance; the search indexes' backlog. "Sync now" queues the source's sync job for the
worker (one job per source, however often it is pressed). Admins only.

:func:`install` adds the routes and the footer's "last synced" line (a template global
evaluated when a page renders) to an app made by ``create_app``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from paperwire.context import Context
from paperwire.sync import status as sync_status
from paperwire.sync.status import Enqueued, JobRow, Overview, SourceStatus
from paperwire.web.auth import AdminDep, safe_next
from paperwire.web.deps import ContextDep
from paperwire.web.pages import render
from paperwire.web.serialize import iso

router = APIRouter()
api = APIRouter(prefix="/api/admin", tags=["admin"])

NO_STORE = {"Cache-Control": "no-store"}
SourceName = Annotated[
    str, Path(max_length=40, description="The source: arxiv, oai or hf.", examples=["hf"])
]
Next = Annotated[str | None, Form(alias="next", max_length=2000)]
PAGE = "/admin/sources"


def install(app: FastAPI) -> None:
    """Include the admin routes and give every page's footer its "last synced" line.

    Call before the routers with catch-all paths (``api``, ``pages``).
    """
    app.include_router(router)
    context: Context = app.state.context

    def sync_footer() -> list[sync_status.FooterItem]:
        return sync_status.footer_items_or_none(context.engine, context.settings)

    app.state.templates.env.globals["sync_footer"] = sync_footer


# --- JSON shapes ---------------------------------------------------------------------------


def source_json(source: SourceStatus) -> dict[str, Any]:
    state = source.state
    return {
        "name": source.name,
        "label": source.label,
        "followed": source.followed,
        "config": source.config,
        "schedule": source.schedule,
        "scheduleMinutes": source.schedule_minutes,
        "lastStartedAt": iso(state.last_started_at),
        "lastFinishedAt": iso(state.last_finished_at),
        "lastSuccessAt": iso(state.last_success_at),
        "lastStatus": state.last_status,
        "lastError": state.last_error,
        "lastCounts": state.last_counts,
        "cursor": state.cursor,
        "cursorText": source.cursor_text,
        "syncUrl": f"/api/admin/sources/{source.name}/sync",
    }


def job_json(job: JobRow) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "args": job.args,
        "status": job.status,
        "attempts": job.attempts,
        "maxAttempts": job.max_attempts,
        "runAfter": iso(job.run_after),
        "createdAt": iso(job.created_at),
        "startedAt": iso(job.started_at),
        "finishedAt": iso(job.finished_at),
        "lockedBy": job.locked_by,
        "lastError": job.last_error,
    }


def overview_json(found: Overview) -> dict[str, Any]:
    return {
        "sources": [source_json(source) for source in found.sources],
        "queue": {
            "counts": found.queue.counts,
            "recent": [job_json(job) for job in found.queue.recent],
        },
        "indexBacklog": found.index_backlog,
    }


def enqueued_json(enqueued: Enqueued) -> dict[str, Any]:
    return {"created": enqueued.created, "job": job_json(enqueued.job)}


# --- routes --------------------------------------------------------------------------------


def _enqueue(context: Context, name: str) -> Enqueued:
    with context.engine.begin() as conn:
        return sync_status.enqueue_sync(conn, name)


@api.get("/sources", summary="Sync sources, the job queue and the index backlog (admins)")
def sources_api(context: ContextDep, admin: AdminDep) -> dict[str, Any]:
    """Each source's configuration, last run, counts, error and cursor."""
    return overview_json(sync_status.overview(context.engine, context.settings))


@api.post(
    "/sources/{name}/sync", status_code=202, summary="Queue a sync of one source now (admins)"
)
def sync_now_api(context: ContextDep, admin: AdminDep, name: SourceName) -> dict[str, Any]:
    """The worker runs it; asking again while it waits queues nothing more (``created``
    is false) and keeps it due now."""
    return enqueued_json(_enqueue(context, sync_status.check_source(name)))


@router.get(PAGE, include_in_schema=False)
def sources_page(
    request: Request, context: ContextDep, admin: AdminDep, queued: str | None = None
) -> Response:
    found = sync_status.overview(context.engine, context.settings)
    response = render(
        request,
        "admin_sources.html",
        overview=found,
        queued=sync_status.label(queued) if queued in sync_status.SOURCE_NAMES else None,
    )
    response.headers.update(NO_STORE)
    return response


@router.post(PAGE + "/{name}/sync", include_in_schema=False)
def sync_now_post(
    context: ContextDep, admin: AdminDep, name: SourceName, next_: Next = None
) -> Response:
    _enqueue(context, sync_status.check_source(name))
    return RedirectResponse(safe_next(next_, f"{PAGE}?queued={name}"), status_code=303)


router.include_router(api)
