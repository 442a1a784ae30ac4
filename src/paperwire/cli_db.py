"""``paperwire db copy``: move a deployment's every row to another database."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from paperwire.config import Settings
from paperwire.store.copy import CopyError, CopyReport, copy_between
from paperwire.store.copy_rows import Advance


def _count_table(report: CopyReport) -> Table:
    table = Table()
    table.add_column("table")
    table.add_column("source rows", justify="right")
    table.add_column("target rows", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("")
    for count in report.tables:
        verdict = "[green]ok[/green]" if count.matches else "[red]DIFFERS[/red]"
        table.add_row(
            count.table, str(count.source), str(count.target), f"{count.seconds:.1f}", verdict
        )
    table.add_row("total", str(report.rows), str(sum(c.target for c in report.tables)), "", "")
    return table


@click.command("copy")
@click.option(
    "--from",
    "source",
    required=True,
    metavar="URL",
    help="The database to copy (it may be in use).",
)
@click.option(
    "--to", "target", required=True, metavar="URL", help="An empty database to copy into."
)
@click.pass_context
def db_copy(ctx: click.Context, source: str, target: str) -> None:
    """Copy every row of one database into another, e.g. SQLite to PostgreSQL.

    \b
    paperwire db copy --from sqlite:///paperwire.db \\
                      --to 'postgresql+psycopg://paperwire@dbhost/paperwire'

    The source must be at the current schema (`paperwire db upgrade`) and may keep
    running: it is read as one consistent snapshot. The target is upgraded to the current
    schema and must hold no data; it is filled in one transaction, so a failure leaves it
    empty and the command can simply be run again. Ends with a row count per table, and
    exits with status 1 when any differs. Then run `paperwire index` against the target
    to build its search indexes.
    """
    settings: Settings = ctx.obj["settings"]
    out, err = Console(), Console(stderr=True)
    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=not err.is_terminal,
    )

    def start(table: str, rows: int) -> Advance:
        if not err.is_terminal and rows:  # logs get a line per table instead of bars
            err.print(f"copying {table} ({rows} rows)", highlight=False)
        task = progress.add_task(table, total=rows)
        return lambda n: progress.advance(task, n)

    try:
        with progress:
            report = copy_between(settings, source, target, start=start)
    except CopyError as error:
        raise click.ClickException(error.message) from error
    out.print(f"{report.source} → {report.target}", highlight=False, soft_wrap=True)
    out.print(_count_table(report))
    out.print(
        f"{report.rows} rows in {report.seconds:.1f} s ({report.rows_per_second:,.0f} rows/s)",
        highlight=False,
    )
    if not report.committed:
        err.print(
            "[red]the row counts differ, so the copy was rolled back: the target holds no "
            "data[/red]"
        )
        sys.exit(1)
    if report.mismatches:
        err.print("[red]the row counts differ after the commit: check the target[/red]")
        sys.exit(1)
    err.print(
        "next: point PAPERWIRE_DATABASE_URL at the target and run `paperwire index` there "
        "to build its search indexes",
        highlight=False,
    )
