"""The basket pages: a container whose jobs wait (scans stay "OCR pending"), drafts to show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings
from ged.services.audit import Actor
from tests.conftest import FAST_HASHER
from tests.e2e.mail import conftest as mail_conftest
from tests.integration.capture import scans

SCANNER = Actor.system("scanner")


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    """OCR jobs are queued, not run: a page test does not wait for Tesseract."""
    settings = replace(settings, ocr=replace(settings.ocr, languages="fra", workers=1))
    settings.instance.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrations.upgrade(engine)
    ged = bootstrap.build(settings, engine=engine, passwords=Passwords(FAST_HASHER))
    ged.store.ensure()
    yield ged
    ged.dispose()


def drop_scan(container: Container, folder: Path, name: str, pages: int = 1) -> int:
    """A scan without sheet, taken as the scanner folder takes it; returns its draft id."""
    path = scans.scan_pdf(folder / "scan.pdf", scans.letter_pages(name, pages))
    [outcome] = container.basket.ingest(SCANNER, path, name)
    assert outcome.draft_id is not None
    return outcome.draft_id


# The registry pages' agency (units URB, PRM, JUR and one person per role), shared as is.
office = mail_conftest.office
