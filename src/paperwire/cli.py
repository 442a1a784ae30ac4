"""The ``paperwire`` command: a thin shell over the library."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from paperwire.cli_db import db_copy
from paperwire.cli_digest import digest
from paperwire.cli_support import open_context as _context
from paperwire.cli_sync import sync
from paperwire.cli_users import user
from paperwire.cli_worker import jobs, worker
from paperwire.config import load_settings
from paperwire.context import Context
from paperwire.feed import service as feed_service
from paperwire.feed.periods import Period, PeriodError, parse_day, parse_month, parse_week
from paperwire.feed.service import SortOrder
from paperwire.ingest.files import FORMATS, iter_input_files
from paperwire.ingest.pipeline import ImportSummary, import_paths
from paperwire.search import indexer
from paperwire.search import service as search_service
from paperwire.search.keyword import IndexLocked
from paperwire.search.query import Filters
from paperwire.search.service import MODES, SORTS, Mode, SearchRequest, Sort
from paperwire.store.migrate import upgrade
from paperwire.web.search import hit_json
from paperwire.web.serialize import entry_json, paper_json

MAX_ERRORS_SHOWN = 50


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--database-url", envvar="PAPERWIRE_DATABASE_URL", help="Database URL.")
@click.version_option(package_name="paperwire")
@click.pass_context
def main(ctx: click.Context, database_url: str | None) -> None:
    """paperwire: a self-hosted, community-curated research-paper feed."""
    overrides: dict[str, Any] = {"database_url": database_url} if database_url else {}
    try:
        ctx.obj = {"settings": load_settings(**overrides)}
    except ValueError as error:
        raise click.ClickException(f"invalid settings: {error}") from error


@main.group()
def db() -> None:
    """Manage the database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@click.pass_context
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply migrations up to REVISION (creates the database if needed)."""
    context = _context(ctx, migrated=False)
    upgrade(context.engine, revision)
    click.echo(f"database at {revision}: {context.settings.database_url}")


@main.command()
@click.option("--host", help="Interface to listen on (default: PAPERWIRE_HOST or 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: PAPERWIRE_PORT or 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the web UI and the JSON API."""
    import uvicorn

    settings = _context(ctx).settings
    settings = settings.model_copy(
        update={k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    )
    # uvicorn's factory mode builds one app per worker process from the environment.
    os.environ["PAPERWIRE_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "paperwire.web.app:app_from_env",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        proxy_headers=True,
        log_level="info",
    )


def _print_summary(console: Console, summary: ImportSummary) -> None:
    for error in summary.errors[:MAX_ERRORS_SHOWN]:
        console.print(f"[red]skipped[/red] {error}", highlight=False, soft_wrap=True)
    if summary.skipped > MAX_ERRORS_SHOWN:
        console.print(f"... and {summary.skipped - MAX_ERRORS_SHOWN} more skipped records")
    console.print(
        f"{summary.files} files, {summary.records} records: "
        f"papers {summary.papers_inserted} new, {summary.papers_updated} updated, "
        f"{summary.papers_unchanged} unchanged; feed entries {summary.feed_inserted} new, "
        f"{summary.feed_updated} updated, {summary.feed_unchanged} unchanged; "
        f"{summary.skipped} skipped",
        highlight=False,
        soft_wrap=True,
    )


@main.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Force the input format.")
@click.pass_context
def import_command(ctx: click.Context, paths: tuple[Path, ...], fmt: str | None) -> None:
    """Import papers from files or folders (.gz read transparently, format detected).

    Malformed records are reported with file and line and skipped; the exit status is 1
    when anything was skipped.
    """
    context = _context(ctx, migrated=False)
    upgrade(context.engine)  # importing into a new file is the first thing people do
    err = Console(stderr=True)
    files = list(iter_input_files(list(paths)))
    if not files:
        raise click.ClickException("no data files (*.json, *.jsonl, *.xml, optionally .gz) found")
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[records]} records"),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("importing", total=len(files), records=0)

        def on_file(_path: Path, summary: ImportSummary) -> None:
            progress.update(task, advance=1, records=summary.records)

        summary = import_paths(context.engine, files, fmt, on_file=on_file)
    _print_summary(err, summary)
    _index_keywords_after_import(context, err)
    if summary.skipped:
        sys.exit(1)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def _index_keywords_after_import(context: Context, err: Console) -> None:
    """New papers are findable by keyword as soon as the import command ends."""
    try:
        with context.search.writing(wait=False), _progress(err) as progress:
            pending = indexer.pending_counts(context.engine)
            task = progress.add_task("keyword index", total=pending["keyword"])
            indexer.update_keyword(
                context.engine, context.search, lambda n: progress.advance(task, n)
            )
    except IndexLocked:
        err.print("the search index is being updated by another process; it will catch up")
        return
    waiting = indexer.pending_counts(context.engine)["embedding"]
    if waiting:
        err.print(f"{waiting} papers wait for their embeddings: run `paperwire index`")


@main.command("index")
@click.option("--rebuild", is_flag=True, help="Rebuild the indexes from the store.")
@click.option("--reembed", is_flag=True, help="Compute every embedding again (model change).")
@click.option("--keyword-only", is_flag=True, help="Update the keyword index only.")
@click.pass_context
def index_command(ctx: click.Context, rebuild: bool, reembed: bool, keyword_only: bool) -> None:
    """Build or update the keyword index, the embeddings and the vector index.

    Incremental: only papers added or changed since the last run are processed.
    Interrupt it at any time; the next run goes on from where it stopped.
    """
    context = _context(ctx)
    err = Console(stderr=True)
    try:
        with context.search.writing(wait=False), _progress(err) as progress:

            def start(name: str, total: int | None) -> indexer.Progress:
                task = progress.add_task(name, total=total)
                return lambda n: progress.advance(task, n)

            report = indexer.run_index(
                context.engine,
                context.search,
                rebuild=rebuild,
                reembed=reembed,
                semantic=not keyword_only,
                start=start,
            )
    except IndexLocked as error:
        raise click.ClickException(f"{error}; try again when it has finished") from error
    err.print(
        f"keyword index: {report.keyword_docs} papers indexed; embeddings: {report.embedded} "
        f"computed; vector index: {report.vectors_added} added",
        highlight=False,
    )
    if report.semantic_skipped is not None:
        err.print(f"semantic search unavailable: {report.semantic_skipped}", highlight=False)


@main.command("search")
@click.argument("query", nargs=-1, required=True)
@click.option("--mode", type=click.Choice(MODES), default="hybrid", show_default=True)
@click.option("--sort", type=click.Choice(SORTS), default="relevance", show_default=True)
@click.option("--category", multiple=True, help="Only papers in this category (repeatable).")
@click.option("--organization", help="Only papers of this organization (slug).")
@click.option("--limit", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's shape).")
@click.pass_context
def search_command(
    ctx: click.Context,
    query: tuple[str, ...],
    mode: str,
    sort: str,
    category: tuple[str, ...],
    organization: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search papers: words, "phrases", -excluded, author:name, category:cs.CL."""
    context = _context(ctx)
    request = SearchRequest(
        query=" ".join(query),
        mode=cast(Mode, mode),
        sort=cast(Sort, sort),
        filters=Filters(categories=category, organization=organization),
        limit=limit,
    )
    results = search_service.search(context.engine, context.search, request)
    for notice in results.notices:
        click.echo(f"note: {notice}", err=True)
    if as_json:
        hits = [hit_json(hit, rank) for rank, hit in enumerate(results.hits, 1)]
        click.echo(json.dumps(hits, indent=2, ensure_ascii=False))
        return
    click.echo(f"{results.total} results ({results.mode}, {results.took_ms:.0f} ms)")
    for rank, hit in enumerate(results.hits, 1):
        pinned = f"  [exact {hit.pinned}]" if hit.pinned else ""
        click.echo(f"{rank:3}. {hit.paper.id}  {hit.paper.title}{pinned}")


@main.group()
def papers() -> None:
    """Look at stored papers."""


@papers.command("show")
@click.argument("paper_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's shape).")
@click.pass_context
def papers_show(ctx: click.Context, paper_id: str, as_json: bool) -> None:
    """Show one paper by its id (an arXiv id, with or without version, or a source id)."""
    context = _context(ctx)
    with context.engine.connect() as conn:
        detail = feed_service.paper_detail(conn, feed_service.canonical_paper_id(paper_id))
    if detail is None:
        raise click.ClickException(f"no paper with id {paper_id!r}")
    paper = detail.paper
    if as_json:
        click.echo(json.dumps(paper_json(paper), indent=2, ensure_ascii=False))
        return
    click.echo(paper.title)
    click.echo(", ".join(paper.authors))
    facts = [
        f"id: {paper.id}" + (f"v{paper.version}" if paper.version else ""),
        f"submitted: {paper.submitted_at:%Y-%m-%d}" if paper.submitted_at else None,
        f"categories: {' '.join(paper.categories)}" if paper.categories else None,
        f"organization: {paper.organization.name}" if paper.organization else None,
        f"upvotes: {paper.upvotes}",
        "featured: " + ", ".join(d.isoformat() for d in detail.featured_on)
        if detail.featured_on
        else None,
        *(f"{link.kind.value}: {link.url}" for link in paper.links),
    ]
    click.echo("\n".join(f for f in facts if f))
    click.echo("")
    click.echo(paper.abstract)


def _period_option(date_: str | None, week: str | None, month: str | None) -> Period | None:
    given = [(p, v) for p, v in ((parse_day, date_), (parse_week, week), (parse_month, month)) if v]
    if len(given) > 1:
        raise click.UsageError("give only one of --date, --week and --month")
    if not given:
        return None
    parse, value = given[0]
    try:
        return parse(value)
    except PeriodError as error:
        raise click.BadParameter(str(error)) from error


@main.command()
@click.option("--date", "date_", metavar="YYYY-MM-DD", help="A day's list.")
@click.option("--week", metavar="YYYY-Www", help="An ISO week's list, e.g. 2025-W41.")
@click.option("--month", metavar="YYYY-MM", help="A month's list.")
@click.option("--sort", type=click.Choice(["upvotes", "date", "trending"]), default="upvotes")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the API's shape).")
@click.pass_context
def feed(
    ctx: click.Context,
    date_: str | None,
    week: str | None,
    month: str | None,
    sort: str,
    limit: int,
    as_json: bool,
) -> None:
    """Print a day's, week's or month's featured papers (the latest day by default)."""
    context = _context(ctx)
    period = _period_option(date_, week, month)
    with context.engine.connect() as conn:
        if period is None:
            period = feed_service.latest_period(conn, "day", datetime.now(UTC).date())
        page = feed_service.feed_page(
            conn,
            period,
            sort=cast(SortOrder, sort),
            limit=limit,
            gravity=context.settings.trending_gravity,
        )
    if as_json:
        click.echo(json.dumps([entry_json(e) for e in page.entries], indent=2, ensure_ascii=False))
        return
    click.echo(f"{period.label}: {page.total} papers")
    for rank, entry in enumerate(page.entries, 1):
        org = f" [{entry.organization.name}]" if entry.organization else ""
        click.echo(f"{rank:3}. {entry.upvotes:4} ▲  {entry.paper.id}  {entry.paper.title}{org}")


db.add_command(db_copy)
main.add_command(user)
main.add_command(sync)
main.add_command(worker)
main.add_command(jobs)
main.add_command(digest)
