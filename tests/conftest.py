"""Shared fixtures: real SQLite databases built through the migrations, real data files."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from account_support import MakeClient, client_factory
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.search import indexer
from paperwire.search.resources import SearchResources
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.web.app import create_app
from smtp_server import SmtpServer

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = REPO_ROOT.parent / "shared" / "data"
HF_DIR = DATA_DIR / "hf-daily-papers"
LISTINGS_DIR = DATA_DIR / "arxiv-daily-listings"
FORMATS_DIR = DATA_DIR / "arxiv-formats"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not HF_DIR.is_dir():
        pytest.fail(f"the real data is missing: expected {DATA_DIR} (../shared/data)")
    return DATA_DIR


def sqlite_settings(path: Path, **overrides: object) -> Settings:
    """Keyword search only unless a test asks for the model (see ``semantic_settings``)."""
    values: dict[str, object] = {"semantic": False, **overrides}
    return Settings(env="test", database_url=f"sqlite:///{path}", **values)  # type: ignore[arg-type]


def index_dir_of(database: Path) -> Path:
    return database.with_name(database.stem + "-index")


def _copy_database(source: Path, target: Path) -> Path:
    shutil.copyfile(source, target)
    return target


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database built by the migrations once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "empty.db"
    engine = make_engine(sqlite_settings(path))
    upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_template: Path) -> Settings:
    """Settings for a fresh, migrated database of this test's own."""
    return sqlite_settings(_copy_database(migrated_template, tmp_path / "paperwire.db"))


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def hf_template(
    tmp_path_factory: pytest.TempPathFactory, migrated_template: Path, data_dir: Path
) -> Path:
    """A database holding every Hugging Face daily-papers file, imported once."""
    path = _copy_database(migrated_template, tmp_path_factory.mktemp("hf") / "hf.db")
    settings = sqlite_settings(path)
    engine = make_engine(settings)
    summary = import_paths(engine, [data_dir / "hf-daily-papers"])
    assert summary.errors == []
    resources = SearchResources(settings)
    with resources.writing():
        indexer.update_keyword(engine, resources)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def hf_settings(tmp_path: Path, hf_template: Path) -> Settings:
    """Settings for this test's own copy of the database (and keyword index) of the HF
    archive."""
    database = _copy_database(hf_template, tmp_path / "paperwire.db")
    shutil.copytree(index_dir_of(hf_template), index_dir_of(database))
    return sqlite_settings(database)


@pytest.fixture
def hf_client(hf_settings: Settings) -> Iterator[TestClient]:
    """In-process HTTP against the app over the HF-loaded database."""
    with TestClient(create_app(hf_settings)) as client:
        yield client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


# The optimized embedding model is built once from the packaged weights and kept here
# between runs (git-ignored); concurrent builds are safe (atomic rename).
MODEL_DIR = REPO_ROOT / ".cache" / "models"
SCIFACT_DIR = DATA_DIR / "eval" / "scifact"


@pytest.fixture
def semantic_settings(settings: Settings) -> Settings:
    """Like ``settings``, with semantic search on and the shared model cache."""
    return settings.model_copy(update={"semantic": True, "model_dir": MODEL_DIR})


# Accounts and mail: clients with their own CSRF cookie, and a real SMTP server.
@pytest.fixture
def make_client(settings: Settings) -> Iterator[MakeClient]:
    with client_factory(settings) as make:
        yield make


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mail_client(make_client: MakeClient, smtp: SmtpServer) -> TestClient:
    return make_client(**smtp.settings_update())
