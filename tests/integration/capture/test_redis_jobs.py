"""Jobs through Redis (GED_REDIS_URL): a real OCR job queued, run by a consumer, signed payloads.

Each test has a Redis namespace of its own, removed afterwards; skipped when no Redis answers
at 127.0.0.1:6379 (or GED_TEST_REDIS_URL).
"""

from __future__ import annotations

import io
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from huey import RedisHuey
from sqlalchemy import select

from ged import bootstrap, migrations
from ged.adapters import jobs as jobs_module
from ged.adapters.db import make_engine
from ged.adapters.orm import Document, PageText, Version, VersionText
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.config import Settings
from ged.services.documents import DocumentData, IncomingFile
from tests.conftest import FAST_HASHER
from tests.integration.capture.conftest import SYSTEM
from tests.integration.ocr import builders as pdfs

REDIS_URL = os.environ.get("GED_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def namespace() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    name = f"ged-test-{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(match=f"*{name}*"))
    if keys:
        client.delete(*keys)
    assert not list(client.scan_iter(match=f"*{name}*"))
    client.close()


@pytest.fixture
def on_redis(
    settings: Settings, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Container]:
    settings = replace(
        settings, redis_url=REDIS_URL, ocr=replace(settings.ocr, languages="fra", workers=1)
    )
    real = jobs_module.make_huey

    def in_namespace(s: Settings, immediate: bool = False, name: str = "ged") -> Any:
        return real(s, immediate, name=namespace)

    monkeypatch.setattr(bootstrap, "make_huey", in_namespace)
    settings.instance.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.effective_database_url)
    migrations.upgrade(engine)
    ged = bootstrap.build(settings, engine=engine, passwords=Passwords(FAST_HASHER))
    ged.store.ensure()
    yield ged
    ged.huey.storage.flush_all()
    ged.dispose()


def test_an_ocr_job_goes_through_redis_and_a_consumer_runs_it(
    on_redis: Container, tmp_path: Path
) -> None:
    ged = on_redis
    assert isinstance(ged.huey, RedisHuey)
    path = pdfs.text_pdf(tmp_path / "lettre.pdf")
    document_id = ged.documents.create(
        SYSTEM,
        DocumentData(title="Lettre"),
        IncomingFile(io.BytesIO(path.read_bytes()), "lettre.pdf", "application/pdf"),
    )
    with ged.reader() as uow:
        version_id = uow.session.execute(
            select(Version.id).where(Version.document_id == document_id)
        ).scalar_one()
    # Queued in Redis, nothing run yet.
    assert ged.huey.pending_count() >= 1
    assert _state(ged, version_id) == "pending"

    consumer = ged.huey.create_consumer(workers=1, worker_type="thread", periodic=False)
    consumer.start()
    try:
        deadline = time.monotonic() + 60
        # The OCR job, then the indexing job it enqueues when it commits.
        while not _indexed(ged, document_id) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        consumer.stop(graceful=True)

    assert _state(ged, version_id) == "done"
    with ged.reader() as uow:
        texts = uow.session.execute(
            select(PageText.text).where(PageText.version_id == version_id)
        ).scalars()
        assert "délibérations" in " ".join(texts)
    assert ged.huey.pending_count() == 0


def test_a_message_not_signed_with_the_instance_key_is_refused(on_redis: Container) -> None:
    huey = on_redis.huey
    huey.storage.enqueue(b"forged: run something else")
    with pytest.raises(ValueError, match=r"(?i)signature"):
        huey.dequeue()


def _indexed(ged: Container, document_id: int) -> bool:
    with ged.reader() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        return document.indexed_at is not None and document.indexed_at >= document.updated_at


def _state(ged: Container, version_id: int) -> str:
    with ged.reader() as uow:
        row = uow.session.get(VersionText, version_id)
        assert row is not None
        return row.state
