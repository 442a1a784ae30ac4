"""Message builders: one function per email, filling its template set.

A template set is ``templates/<name>/subject.txt``, ``body.txt`` and ``body.html``; the
HTML one is autoescaped, the text ones are not (they are never read as HTML).
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from paperwire.clock import utcnow
from paperwire.config import Settings
from paperwire.models import User

TEMPLATES_DIR = Path(__file__).parent / "templates"


@cache
def _environment() -> Environment:
    # Built on first use, not at import; loaded from beside this file, so it works from
    # the source tree and from an installed wheel alike.
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default=False),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )


def render_set(name: str, values: dict[str, Any]) -> tuple[str, str, str]:
    """The subject (one line), text body and HTML body of template set ``name``."""
    env = _environment()
    subject = env.get_template(f"{name}/subject.txt").render(values)
    subject = " ".join(subject.split())  # one line: no header folding tricks
    text = env.get_template(f"{name}/body.txt").render(values)
    html = env.get_template(f"{name}/body.html").render(values)
    return subject, text, html


def build(
    settings: Settings, to: str, to_name: str | None, name: str, **values: Any
) -> EmailMessage:
    """An email from template set ``name``: headers, a text part and an HTML alternative."""
    values = {"site_name": settings.site_name, "base_url": settings.base_url, **values}
    subject, text, html = render_set(name, values)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = formataddr((to_name, to)) if to_name else to
    message["Date"] = format_datetime(utcnow())
    sender_domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=sender_domain)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def password_reset(
    settings: Settings, user: User, link: str, minutes: int | None = None
) -> EmailMessage:
    """The "reset your password" mail with its single-use ``link``."""
    return build(
        settings,
        user.email,
        user.display_name,
        "password_reset",
        user=user,
        link=link,
        minutes=minutes if minutes is not None else settings.password_reset_minutes,
    )


def confirm_subscription(
    settings: Settings, email: str, link: str, hours: int | None = None
) -> EmailMessage:
    """The double opt-in mail of a digest subscription, with its confirm ``link``."""
    return build(
        settings,
        email,
        None,
        "confirm_subscription",
        link=link,
        hours=hours if hours is not None else settings.digest_confirm_hours,
    )
