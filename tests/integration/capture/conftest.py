"""Capture tests: a container whose OCR reads French only (faster), and files to feed it."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import PageText, Version, VersionText
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings
from ged.services.audit import Actor
from ged.services.documents import DocumentData, IncomingFile
from tests.conftest import FAST_HASHER

SYSTEM = Actor.system("tests")
# CI checks the repository out with shared/ beside it.
CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "ocrmypdf"


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    """The shared container, with OCR in French only and one page child (a 2-core machine)."""
    settings = replace(settings, ocr=replace(settings.ocr, languages="fra", workers=1))
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
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"the shared OCR corpus is not at {CORPUS.resolve()}")
    return CORPUS


def create(container: Container, path: Path, media_type: str, title: str = "Scan") -> int:
    return container.documents.create(
        SYSTEM,
        DocumentData(title=title),
        IncomingFile(io.BytesIO(path.read_bytes()), path.name, media_type),
    )


def latest_version(container: Container, document_id: int) -> int:
    with container.reader() as uow:
        return uow.session.execute(
            select(Version.id)
            .where(Version.document_id == document_id)
            .order_by(Version.number.desc())
            .limit(1)
        ).scalar_one()


def text_state(container: Container, version_id: int) -> VersionText:
    with container.reader() as uow:
        row = uow.session.get(VersionText, version_id)
        assert row is not None
        return row


def pages(container: Container, version_id: int) -> list[PageText]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(PageText).where(PageText.version_id == version_id).order_by(PageText.page)
            ).scalars()
        )


@pytest.fixture
def queued(settings: Settings) -> Iterator[Container]:
    """A container whose jobs wait in the instance's queue: scans stay "OCR pending"."""
    settings.instance.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrations.upgrade(engine)
    ged = bootstrap.build(settings, engine=engine, passwords=Passwords(FAST_HASHER))
    ged.store.ensure()
    yield ged
    ged.dispose()
