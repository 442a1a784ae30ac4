"""Typed settings, read from ``PAPERWIRE_*`` environment variables.

Nothing reads the environment at import time: call :func:`load_settings` (the CLI does)
or build :class:`Settings` explicitly (the tests do).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

RATE_RULE = re.compile(r"\s*\d+\s*/\s*(second|minute|hour|day)s?\s*")
PLACEHOLDER_SECRET = "dev-insecure-change-me"  # noqa: S105 - the value refused outside dev


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PAPERWIRE_", extra="ignore")

    env: Literal["dev", "test", "prod"] = "dev"
    database_url: str = "sqlite:///./paperwire.db"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str = "http://127.0.0.1:8000"
    site_name: str = "paperwire"
    secret_key: str = PLACEHOLDER_SECRET
    page_size: int = Field(default=50, ge=1, le=500)
    trending_window_days: int = Field(default=7, ge=1, le=365)
    trending_gravity: float = Field(default=1.5, gt=0, le=5)
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    # PostgreSQL: about the most connections one web process opens (it admits a quarter
    # as many requests at a time). Web processes times this, plus a few per worker, must
    # stay under the server's max_connections (100 by default).
    database_connections: int = Field(default=32, ge=4, le=1000)
    # Search indexes (derived from the store, rebuildable): default beside the SQLite file.
    index_dir: Path | None = None
    # Where the optimized embedding model is built once from the packaged weights.
    model_dir: Path | None = None
    semantic: bool = True  # False: keyword search only, no embedding model is loaded

    # Accounts
    session_days: int = Field(default=30, ge=1, le=365)
    password_reset_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    # Mail (password resets; digests): no host means mail is written to the log instead.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_s: float = Field(default=20.0, gt=0)
    mail_from: str = "paperwire <paperwire@localhost>"

    # Submissions: metadata comes from the arXiv API, politely (one request per interval).
    arxiv_api_url: str = "https://export.arxiv.org/api/query"
    arxiv_request_interval_s: float = Field(default=3.0, ge=0)
    arxiv_timeout_s: float = Field(default=20.0, gt=0)
    arxiv_retries: int = Field(default=3, ge=0, le=10)
    submission_max_age_days: int = Field(default=14, ge=0)
    submission_daily_quota: int = Field(default=5, ge=0)

    # Digests: how many papers a digest lists, how long a confirm link lasts, where
    # List-Unsubscribe's mailto goes (default: the From address).
    digest_papers: int = Field(default=10, ge=1, le=100)
    digest_confirm_hours: int = Field(default=48, ge=1, le=24 * 30)
    digest_max_attempts: int = Field(default=5, ge=1, le=20)
    unsubscribe_mailto: str | None = None

    # Sync: where papers come from, and how often the worker looks (minutes; 0 = never).
    arxiv_oai_url: str = "https://oaipmh.arxiv.org/oai"
    hf_api_url: str = "https://huggingface.co"
    hf_request_interval_s: float = Field(default=1.0, ge=0)
    sync_sources: str = "arxiv,hf"  # which sources the worker syncs: arxiv, oai, hf
    sync_arxiv_categories: str = "cs.CL,cs.LG,cs.AI,cs.CV"
    sync_arxiv_since_days: int = Field(default=2, ge=1, le=365)  # first run's look-back
    sync_oai_set: str = "cs"
    sync_every_minutes: int = Field(default=60, ge=0)
    index_every_minutes: int = Field(default=5, ge=0)
    worker_lease_s: int = Field(default=120, ge=5)  # a dead worker's job is retaken after

    # Abuse limits, "COUNT/PERIOD" with PERIOD one of second, minute, hour, day. Each
    # action is limited per account (or per attempted account, for log-in) and per IP.
    rate_limits: bool = True
    rate_limit_login: str = "10/minute"
    rate_limit_login_ip: str = "30/minute"
    rate_limit_signup_ip: str = "10/hour"
    rate_limit_password_reset: str = "5/hour"  # noqa: S105 - a rate, not a secret
    rate_limit_vote: str = "120/minute"
    rate_limit_vote_ip: str = "600/minute"
    rate_limit_comment: str = "10/minute"
    rate_limit_comment_ip: str = "60/minute"
    rate_limit_submit: str = "10/hour"
    rate_limit_submit_ip: str = "60/hour"

    @model_validator(mode="after")
    def _check_rate_limits(self) -> Settings:
        for name, value in self:
            if name.startswith("rate_limit_") and not RATE_RULE.fullmatch(str(value)):
                raise ValueError(
                    f"PAPERWIRE_{name.upper()} must look like 10/minute "
                    f"(COUNT/second|minute|hour|day), not {value!r}"
                )
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "prod" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                "PAPERWIRE_SECRET_KEY must be set to a random value when PAPERWIRE_ENV=prod"
            )
        return self

    @property
    def followed_sources(self) -> list[str]:
        return [name.strip() for name in self.sync_sources.split(",") if name.strip()]

    @property
    def arxiv_categories(self) -> list[str]:
        return [name.strip() for name in self.sync_arxiv_categories.split(",") if name.strip()]

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def search_index_dir(self) -> Path:
        if self.index_dir is not None:
            return self.index_dir
        database = self.database_url.partition(":///")[2].split("?")[0]
        if self.is_sqlite and database and database != ":memory:":
            path = Path(database)
            return path.with_name(path.stem + "-index")
        return Path("paperwire-index")

    @property
    def model_cache_dir(self) -> Path:
        if self.model_dir is not None:
            return self.model_dir
        return Path.home() / ".cache" / "paperwire" / "models"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. CLI options) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
