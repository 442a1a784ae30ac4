"""Typed settings, read from ``PAPERWIRE_*`` environment variables.

Nothing reads the environment at import time: call :func:`load_settings` (the CLI does)
or build :class:`Settings` explicitly (the tests do).
"""

from __future__ import annotations

from pathlib import Path
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
    # Search indexes (derived from the store, rebuildable): default beside the SQLite file.
    index_dir: Path | None = None
    # Where the optimized embedding model is built once from the packaged weights.
    model_dir: Path | None = None
    semantic: bool = True  # False: keyword search only, no embedding model is loaded

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
