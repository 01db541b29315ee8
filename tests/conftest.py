"""Shared fixtures: settings in a temporary instance, a migrated database, the app and a client.

The database is SQLite in the test's instance folder unless GED_TEST_DATABASE_URL names a
PostgreSQL server: then every test gets a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import create_engine, text

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings, load_settings
from tests.builders import Builders

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
# Cheap Argon2id parameters: the same algorithm, a fraction of the cost.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
# Any attribute order: WTForms' hidden_tag and the hand-written logout form in base.html differ.
CSRF_RE = re.compile(r'<input[^>]*\bname="csrf_token"[^>]*\bvalue="([^"]+)"')


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: a fresh PostgreSQL schema, or '' for SQLite in the instance folder."""
    server = os.environ.get("GED_TEST_DATABASE_URL", "")
    if not server:
        yield ""
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        {
            "instance": tmp_path / "instance",
            "database_url": database_url,
            "secret_key": TEST_SECRET,
            "redis_url": "",
        },
        environ={},
    )


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    settings.instance.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrations.upgrade(engine)
    ged = bootstrap.build(
        settings, engine=engine, passwords=Passwords(FAST_HASHER), immediate_jobs=True
    )
    ged.store.ensure()
    yield ged
    ged.dispose()


@pytest.fixture
def build(container: Container) -> Builders:
    return Builders(container)


@pytest.fixture
def app(container: Container) -> Flask:
    from web import create_app

    return create_app({"GED_CONTAINER": container, "TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


class AuthActions:
    """Log in and out through the real forms, CSRF token included."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def login(self, username: str, password: str = Builders.PASSWORD):  # type: ignore[no-untyped-def]
        page = self.client.get("/login")
        return self.client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": csrf_token(page.get_data(as_text=True)),
            },
        )

    def logout(self):  # type: ignore[no-untyped-def]
        page = self.client.get("/")
        return self.client.post(
            "/logout", data={"csrf_token": csrf_token(page.get_data(as_text=True))}
        )


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)
