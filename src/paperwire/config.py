"""Typed settings, read from ``PAPERWIRE_*`` environment variables.

Nothing reads the environment at import time: call :func:`load_settings` (the CLI does)
or build :class:`Settings` explicitly (the tests do).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Settings:
        if self.env == "prod" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                "PAPERWIRE_SECRET_KEY must be set to a random value when PAPERWIRE_ENV=prod"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (e.g. CLI options) on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
