"""Jinja2 environment with paperwire's filters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from fastapi.templating import Jinja2Templates

from paperwire.config import Settings
from paperwire.text import plain_excerpt, render_abstract, render_latex
from paperwire.web.urls import author_path, organization_path, paper_path, period_path

TEMPLATES_DIR = Path(__file__).parent / "templates"


def _human_date(value: date | datetime | None) -> str:
    return value.strftime("%-d %b %Y") if value else ""


def _dom_id(value: str) -> str:
    """An HTML id from a paper id (old-style arXiv ids hold a slash)."""
    return "".join(c if c.isalnum() else "-" for c in value)


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=TEMPLATES_DIR)
    env = templates.env
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters["latex"] = render_latex
    env.filters["abstract"] = render_abstract
    env.filters["excerpt"] = plain_excerpt
    env.filters["human_date"] = _human_date
    env.filters["dom_id"] = _dom_id
    env.globals["site_name"] = settings.site_name
    env.globals["period_path"] = period_path
    env.globals["paper_path"] = paper_path
    env.globals["organization_path"] = organization_path
    env.globals["author_path"] = author_path
    return templates
