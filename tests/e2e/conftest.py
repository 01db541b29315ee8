"""Helpers for the end-to-end tests: people per role, extra app instances, DB and audit readers."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import inspect, literal_column, select, table
from werkzeug.test import TestResponse

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import AuditEvent, AuthSession
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings, load_settings
from ged.domain.model import AuditAction, Role
from ged.services.admin import UserData
from tests.builders import SYSTEM, Builders
from tests.conftest import FAST_HASHER, AuthActions, csrf_token

SESSION_COOKIE = "ged_session"
HX_HEADERS_RE = re.compile(r"hx-headers='\{\"X-CSRFToken\": \"([^\"]+)\"\}'")
# Tables whose rows change on every request, refused or not: left out of "nothing changed".
VOLATILE_TABLES = frozenset({"audit_event", "audit_head", "rate_limit", "alembic_version"})


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database at the head revision, built once per run."""
    path = tmp_path_factory.mktemp("template") / "ged.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        migrations.upgrade(engine)
    finally:
        engine.dispose()  # closes the WAL, so the file alone is the whole database
    return path


@pytest.fixture
def settings(settings: Settings, migrated_sqlite: Path) -> Settings:
    """The shared settings, with the SQLite file seeded from the migrated template.

    Running every migration takes most of an end-to-end test's time; the shared ``container``
    fixture still runs ``upgrade``, which finds nothing left to do. PostgreSQL is untouched.
    """
    if not settings.database_url:
        settings.instance.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(migrated_sqlite, settings.instance / "ged.sqlite3")
    return settings


@dataclass(frozen=True)
class People:
    """One account per role, all with ``Builders.PASSWORD``."""

    unit_id: int
    admin: int
    auditor: int
    registrar: int
    manager: int
    agent: int


@pytest.fixture
def people(build: Builders) -> People:
    unit_id = build.unit("DG", name="Direction générale")
    return People(
        unit_id=unit_id,
        admin=build.user("admin", role=Role.ADMIN),
        auditor=build.user("auditor", role=Role.AUDITOR),
        registrar=build.user("registrar", role=Role.REGISTRAR),
        manager=build.user("manager", role=Role.MANAGER, unit_id=unit_id),
        agent=build.user("agent", role=Role.AGENT, unit_id=unit_id),
    )


@pytest.fixture
def new_client(app: Flask) -> Callable[[], AuthActions]:
    """Another browser on the same app (its own cookie jar)."""

    def make() -> AuthActions:
        return AuthActions(app.test_client())

    return make


@pytest.fixture
def make_app(settings: Settings, container: Container) -> Iterator[Callable[..., Flask]]:
    """Another app instance (own container, own engine) on the fixture's database.

    Keyword arguments are security settings, applied through ``load_settings`` overrides the
    way an operator would set them.
    """
    built: list[Container] = []

    def make(**security: Any) -> Flask:
        from web import create_app

        overrides: dict[str, Any] = {
            "instance": settings.instance,
            "database_url": settings.database_url,
            "secret_key": settings.secret_key,
            "redis_url": "",
        }
        overrides.update({f"security.{key}": value for key, value in security.items()})
        other_settings = load_settings(overrides, environ={})
        other = bootstrap.build(
            other_settings,
            engine=make_engine(other_settings.effective_database_url),
            passwords=Passwords(FAST_HASHER),
            immediate_jobs=True,
        )
        built.append(other)
        return create_app({"GED_CONTAINER": other, "TESTING": True})

    yield make
    for other in built:
        other.dispose()


@pytest.fixture
def ged(runner: FlaskCliRunner) -> Callable[..., Result]:
    """Run a ``ged`` command against the test app (``ged.cli`` is a group of its own)."""
    from web.cli import cli

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, args=list(args))

    return invoke


# --- reading pages --------------------------------------------------------------------------


def text(response: TestResponse) -> str:
    """The page as a person reads it: entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def form_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form served at ``path``."""
    page = client.get(path)
    assert page.status_code == 200, f"GET {path} answered {page.status_code}"
    return csrf_token(page.get_data(as_text=True))


def hx_token(client: FlaskClient, path: str = "/") -> str:
    """The token a page hands to htmx through ``hx-headers``."""
    match = HX_HEADERS_RE.search(client.get(path).get_data(as_text=True))
    assert match, "no hx-headers token in the page"
    return match.group(1)


def redirects_to_login(response: TestResponse) -> bool:
    return response.status_code in (302, 303) and response.location.split("?")[0].endswith("/login")


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else ""


# --- reading the database -------------------------------------------------------------------


def events(container: Container, action: AuditAction) -> list[AuditEvent]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(AuditEvent).where(AuditEvent.action == action.value).order_by(AuditEvent.id)
            ).scalars()
        )


def sessions_of(container: Container, user_id: int) -> list[AuthSession]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(AuthSession).where(AuthSession.user_id == user_id).order_by(AuthSession.id)
            ).scalars()
        )


def all_rows(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, read from the database itself (not the ORM), so that tables
    added later are covered too."""
    with container.engine.connect() as conn:
        return {
            name: sorted(
                (
                    tuple(row)
                    for row in conn.execute(select(literal_column("*")).select_from(table(name)))
                ),
                key=repr,
            )
            for name in inspect(conn).get_table_names()
        }


def snapshot(container: Container) -> dict[str, list[tuple[Any, ...]]]:
    """All rows but the audit log and rate counters, which change on refusals too."""
    return {name: rows for name, rows in all_rows(container).items() if name not in VOLATILE_TABLES}


def set_active(container: Container, user_id: int, active: bool) -> None:
    user = container.admin.get_user(SYSTEM, user_id)
    container.admin.update_user(
        SYSTEM,
        user_id,
        UserData(
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            unit_id=user.unit_id,
            email=user.email,
            locale=user.locale,
            active=active,
        ),
    )
