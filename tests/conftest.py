"""Shared fixtures: real databases built through the migrations, real data files.

The backend is SQLite unless ``PAPERWIRE_TEST_DATABASE_URL`` names a PostgreSQL server
(tests/databases.py); the fixtures read the same either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from account_support import MakeClient, client_factory
from databases import Databases, NewDatabase, databases_from_environment
from paperwire.config import Settings
from paperwire.ingest.pipeline import import_paths
from paperwire.search import indexer
from paperwire.search.resources import SearchResources
from paperwire.store.db import make_engine
from paperwire.store.migrate import upgrade
from paperwire.web.app import create_app
from repo_paths import DATA_DIR, HF_DIR, MODEL_DIR
from smtp_server import SmtpServer


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not HF_DIR.is_dir():
        pytest.fail(f"the real data is missing: expected {DATA_DIR} (../shared/data)")
    return DATA_DIR


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    """This test process's databases: SQLite files, or databases on the PostgreSQL server
    named by ``PAPERWIRE_TEST_DATABASE_URL`` (all dropped when the session ends)."""
    made = databases_from_environment()
    try:
        yield made
    finally:
        made.close()


@pytest.fixture(scope="session")
def backend(databases: Databases) -> str:
    """``"sqlite"`` or ``"postgresql"``: for the few tests that must tell them apart."""
    return databases.name


@pytest.fixture
def new_database(tmp_path: Path, databases: Databases) -> Iterator[NewDatabase]:
    """Make databases of this test's own: a copy of a template's ``Settings``, or an empty,
    unmigrated one without. Each is dropped when the test ends."""
    made: list[Settings] = []

    def make(template: Settings | None = None, **overrides: object) -> Settings:
        if template is None:
            settings = databases.create(tmp_path, **overrides)
        else:
            settings = databases.copy(template, tmp_path, **overrides)
        made.append(settings)
        return settings

    yield make
    for settings in made:
        databases.drop(settings)


@pytest.fixture(scope="session")
def migrated_template(
    tmp_path_factory: pytest.TempPathFactory, databases: Databases
) -> Iterator[Settings]:
    """An empty database built by the migrations once; each test gets a copy."""
    template = databases.create(tmp_path_factory.mktemp("template"))
    engine = make_engine(template)
    upgrade(engine)
    engine.dispose()
    databases.settle(template)
    yield template
    databases.drop(template)


@pytest.fixture
def settings(new_database: NewDatabase, migrated_template: Settings) -> Settings:
    """Settings for a fresh, migrated database of this test's own."""
    return new_database(migrated_template)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def hf_template(
    tmp_path_factory: pytest.TempPathFactory,
    databases: Databases,
    migrated_template: Settings,
    data_dir: Path,
) -> Iterator[Settings]:
    """A database holding every Hugging Face daily-papers file, imported and keyword-indexed
    once."""
    template = databases.copy(migrated_template, tmp_path_factory.mktemp("hf"))
    engine = make_engine(template)
    summary = import_paths(engine, [data_dir / "hf-daily-papers"])
    assert summary.errors == []
    resources = SearchResources(template, engine)
    with resources.writing():
        indexer.update_keyword(engine, resources)
    engine.dispose()
    databases.settle(template)
    yield template
    databases.drop(template)


@pytest.fixture
def hf_settings(new_database: NewDatabase, hf_template: Settings) -> Settings:
    """Settings for this test's own copy of the database (and keyword index) of the HF
    archive."""
    return new_database(hf_template)


@pytest.fixture
def hf_client(hf_settings: Settings) -> Iterator[TestClient]:
    """In-process HTTP against the app over the HF-loaded database."""
    with TestClient(create_app(hf_settings)) as client:
        yield client


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


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
