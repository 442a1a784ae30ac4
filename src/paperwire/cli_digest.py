"""``paperwire digest send|preview``: email digests from the shell (and cron)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from paperwire.cli_support import open_context
from paperwire.clock import utcnow
from paperwire.digests.compose import compose, with_unsubscribe
from paperwire.digests.outbox import fill
from paperwire.digests.periods import FREQUENCIES, period_for
from paperwire.digests.send import fill_and_send
from paperwire.digests.subscriptions import unsubscribe_token, unsubscribe_url
from paperwire.store import subscriptions as subscription_store


@click.group()
def digest() -> None:
    """Send email digests, or preview one."""


@digest.command("send")
@click.option("--period", "frequency", type=click.Choice(FREQUENCIES), required=True)
@click.option("--dry-run", is_flag=True, help="Compose and list what would be sent; send nothing.")
@click.option(
    "--flush",
    is_flag=True,
    help="Retry deferred messages now instead of at their backoff time (after an outage).",
)
@click.option(
    "--now",
    "at",
    type=click.DateTime(formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"]),
    help="Act as if it were this UTC time: catch up a day the sender missed.",
)
@click.pass_context
def digest_send(
    ctx: click.Context, frequency: str, dry_run: bool, flush: bool, at: datetime | None
) -> None:
    """Queue the digests due now (the subscriber's hour reached) and send the outbox.

    Run it as often as you like: a period's digest is queued once per subscriber, and a
    message is marked sent only after the mail server took it.
    """
    context = open_context(ctx)
    now = at.replace(tzinfo=UTC) if at is not None else utcnow()
    if dry_run:
        report = fill(context, period_for(frequency, now), now, dry_run=True)
        for item in report.planned:
            click.echo(f"{item.email}\t{item.message_id}\t{item.papers} papers\t{item.subject}")
        click.echo(
            f"dry run {report.period_key}: would queue {len(report.planned)}, "
            f"already queued {report.already}, empty {report.empty}, "
            f"not due {report.not_due}, suppressed {report.suppressed}; nothing sent"
        )
        return
    result = fill_and_send(context, [frequency], now, flush=flush)
    counts = result.counts()
    click.echo(
        f"{counts['periods']}: queued {counts['queued']}, sent {counts['sent']}, "
        f"retried {counts['retried']}, bounced {counts['bounced']}, failed {counts['failed']}"
    )
    if result.sending.stopped:
        raise click.ClickException(
            f"stopped early, the mail server failed: {result.sending.stopped}"
        )


@digest.command("preview")
@click.option("--email", required=True, help="The subscriber's address.")
@click.pass_context
def digest_preview(ctx: click.Context, email: str) -> None:
    """Print the subject and text of the digest ADDRESS would get now (nothing is sent)."""
    context = open_context(ctx)
    now = utcnow()
    with context.engine.connect() as conn:
        ids = subscription_store.live_ids_of_email(conn, email.strip().lower())
        found = [subscription_store.get_subscription(conn, item) for item in ids]
    subscriptions = [item for item in found if item is not None]
    if not subscriptions:
        raise click.ClickException(f"{email} has no active or pending subscription")
    for subscription in subscriptions:
        period = period_for(subscription.frequency, now)
        composed = compose(context, subscription, period)
        click.echo(f"# {subscription.frequency} subscription {subscription.id}, {period.key}")
        if composed is None:
            click.echo("(no paper qualifies: nothing would be sent)\n")
            continue
        link = unsubscribe_url(
            context.settings, unsubscribe_token(context.settings, subscription.id)
        )
        text, _html = with_unsubscribe(composed.text, composed.html, link)
        click.echo(f"Subject: {composed.subject}\n\n{text}")
