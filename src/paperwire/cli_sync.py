"""``paperwire sync arxiv|oai|hf``: one sync run of one source, recorded like the worker's."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta

import click

from paperwire.cli_support import open_context
from paperwire.errors import UserError
from paperwire.sync import arxiv, hf, oai
from paperwire.sync.report import SyncError, SyncReport
from paperwire.sync.runner import run_sync

SINCE = re.compile(r"(\d+)([hdw])")
UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """``2d``, ``36h``, ``1w``: how far back an arXiv sync looks."""
    match = SINCE.fullmatch(text.strip())
    if not match:
        raise click.BadParameter("use a number and a unit, like 2d, 36h or 1w")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


def parse_day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise click.BadParameter(f"{text!r} is not a date like 2025-10-06") from error


def _run(ctx: click.Context, source: str, sync: Callable[..., SyncReport], **args: object) -> None:
    context = open_context(ctx)
    try:
        report = run_sync(context, source, lambda: sync(context, **args))
    except (SyncError, UserError) as error:
        message = error.message if isinstance(error, UserError) else str(error)
        raise click.ClickException(f"{source}: {message}") from error
    for line in report.errors[:50]:
        click.echo(f"skipped {line}", err=True)
    click.echo(
        f"{source}: {report.pages} pages, {report.fetched} records: {report.inserted} new, "
        f"{report.updated} updated, {report.unchanged} unchanged, {report.featured} featured, "
        f"{report.skipped} skipped" + (f" ({report.note})" if report.note else "")
    )
    if report.skipped:
        ctx.exit(1)


@click.group()
def sync() -> None:
    """Fetch new and updated papers from arXiv and Hugging Face."""


@sync.command("arxiv")
@click.option("--category", "categories", multiple=True, help="e.g. cs.CL (repeatable).")
@click.option("--since", help="How far back: 2d, 36h, 1w (default: since the last run).")
@click.pass_context
def sync_arxiv(ctx: click.Context, categories: tuple[str, ...], since: str | None) -> None:
    """New and updated papers of categories from the arXiv API, newest first."""
    settings = ctx.obj["settings"]
    _run(
        ctx,
        "arxiv",
        arxiv.sync_arxiv,
        categories=list(categories) or settings.arxiv_categories,
        since=parse_since(since) if since else None,
    )


@sync.command("oai")
@click.option("--set", "set_spec", help="An OAI set, e.g. cs or physics:hep-th.")
@click.option("--from", "from_", metavar="YYYY-MM-DD", help="Records changed since this day.")
@click.option("--until", metavar="YYYY-MM-DD", help="Records changed until this day.")
@click.pass_context
def sync_oai(
    ctx: click.Context, set_spec: str | None, from_: str | None, until: str | None
) -> None:
    """Harvest arXiv OAI-PMH (backfill); resumes an interrupted harvest where it stopped."""
    settings = ctx.obj["settings"]
    _run(
        ctx,
        "oai",
        oai.harvest,
        set_spec=set_spec or settings.sync_oai_set,
        from_=parse_day(from_),
        until=parse_day(until),
    )


@sync.command("hf")
@click.option("--date", "day", metavar="YYYY-MM-DD", help="The day's list (default: today).")
@click.pass_context
def sync_hf(ctx: click.Context, day: str | None) -> None:
    """Feature the Hugging Face daily list of a day, with its upvotes and links."""
    _run(ctx, "hf", hf.sync_hf, day=parse_day(day))
