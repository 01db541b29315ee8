"""Fixtures for the mail registry: a registrar, a small org chart, files, store snapshots.

The permission matrix reads one world hundreds of times, so it gets a module-scoped database
(``world_container``); every other test uses the per-test ``container`` of ``tests/conftest.py``.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import ChronoCounter, Document, Mail, MailDocument, Version
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import load_settings
from ged.domain.model import Role
from ged.services.audit import Actor
from ged.services.uploads import Upload
from tests.builders import Builders
from tests.conftest import FAST_HASHER, TEST_SECRET


def pdf(label: str) -> bytes:
    """A small file that is a PDF by its magic bytes (all the registry checks)."""
    return b"%PDF-1.4\n% " + label.encode() + b"\n%%EOF\n"


def upload(data: bytes, name: str = "lettre.pdf") -> Upload:
    return Upload(io.BytesIO(data), name)


@dataclass(frozen=True)
class Office:
    """A registrar and the units mail is addressed to."""

    registrar: Actor
    unit_id: int
    sub_unit_id: int
    other_unit_id: int


def make_office(container: Container) -> Office:
    build = Builders(container)
    unit = build.unit()
    sub_unit = build.unit(parent_id=unit)
    other = build.unit()
    registrar = build.actor(build.user(role=Role.REGISTRAR))
    return Office(registrar, unit, sub_unit, other)


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


def store_files(container: Container) -> set[str]:
    """Every file under the store (objects and temp files), relative to its root."""
    root = container.store.root
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@dataclass(frozen=True)
class RowCounts:
    mail: int
    mail_document: int
    document: int
    version: int
    chrono_numbers: int


def row_counts(container: Container) -> RowCounts:
    with container.reader() as uow:
        session = uow.session

        def count(model: type[object]) -> int:
            return session.execute(select(func.count()).select_from(model)).scalar_one()

        numbers = session.execute(
            select(func.coalesce(func.sum(ChronoCounter.last_value), 0))
        ).scalar_one()
        return RowCounts(count(Mail), count(MailDocument), count(Document), count(Version), numbers)


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """An empty database that outlives one test: a PostgreSQL schema, or '' for SQLite."""
    server = os.environ.get("GED_TEST_DATABASE_URL", "")
    if not server:
        yield ""
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        separator = "&" if "?" in server else "?"
        try:
            yield f"{server}{separator}options=-csearch_path%3D{schema}"
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


@pytest.fixture(scope="module")
def world_container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    folder = tmp_path_factory.mktemp("world")
    with fresh_database(folder) as database_url:
        settings = load_settings(
            {
                "instance": folder / "instance",
                "database_url": database_url,
                "secret_key": TEST_SECRET,
                "redis_url": "",
            },
            environ={},
        )
        settings.instance.mkdir(parents=True)
        engine = make_engine(settings.effective_database_url)
        migrations.upgrade(engine)
        ged = bootstrap.build(
            settings, engine=engine, passwords=Passwords(FAST_HASHER), immediate_jobs=True
        )
        ged.store.ensure()
        try:
            yield ged
        finally:
            ged.dispose()
