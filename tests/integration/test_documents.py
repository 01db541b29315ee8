"""Documents and their immutable versions: the file first, then the row."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from ged.adapters.orm import AuditEvent, Document, Version
from ged.bootstrap import Container
from ged.domain.errors import NotFound, StorageError, ValidationError
from ged.domain.model import AuditAction
from ged.services.documents import DocumentData, IncomingFile
from tests.builders import SYSTEM, Builders


def incoming(data: bytes, name: str = "lettre.pdf") -> IncomingFile:
    return IncomingFile(io.BytesIO(data), name, "application/pdf", page_count=1)


def count(container: Container, model: type[Document] | type[Version]) -> int:
    with container.reader() as uow:
        return uow.session.execute(select(func.count()).select_from(model)).scalar_one()


def versions_of(container: Container, document_id: int) -> list[Version]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(Version).where(Version.document_id == document_id).order_by(Version.id)
            ).scalars()
        )


@pytest.fixture
def files_seen_at_flush(container: Container) -> Iterator[list[bool]]:
    """For every Version about to be inserted: was its file already in the store?"""
    seen: list[bool] = []

    def check(session: Session, _context: object, _instances: object) -> None:
        seen.extend(
            container.store.exists(obj.sha256) for obj in session.new if isinstance(obj, Version)
        )

    event.listen(Session, "before_flush", check)
    try:
        yield seen
    finally:
        event.remove(Session, "before_flush", check)


def test_create_stores_the_file_and_a_first_version(container: Container) -> None:
    data = b"%PDF-1.4 lettre de la commune"

    document_id = container.documents.create(
        SYSTEM, DocumentData("  Lettre de la commune "), incoming(data)
    )

    [version] = versions_of(container, document_id)
    assert version.number == 1
    assert version.sha256 == hashlib.sha256(data).hexdigest()
    assert version.size == len(data)
    assert version.original_name == "lettre.pdf"
    with container.store.open(version.sha256) as fh:
        assert fh.read() == data
    with container.reader() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        assert document.title == "Lettre de la commune"


def test_create_writes_the_file_before_the_row(
    container: Container, files_seen_at_flush: list[bool]
) -> None:
    container.documents.create(SYSTEM, DocumentData("Lettre"), incoming(b"%PDF-1.4\nfirst file"))

    assert files_seen_at_flush == [True]


def test_add_version_writes_the_file_before_the_row(
    container: Container, build: Builders, files_seen_at_flush: list[bool]
) -> None:
    document_id = build.document(b"%PDF-1.4\nv1")

    container.documents.add_version(SYSTEM, document_id, incoming(b"%PDF-1.4\nv2"))

    assert files_seen_at_flush == [True, True]


def test_versions_are_numbered_1_2_3(container: Container, build: Builders) -> None:
    document_id = build.document(b"%PDF-1.4\nv1")
    other_id = build.document(b"%PDF-1.4\nother")

    container.documents.add_version(SYSTEM, document_id, incoming(b"%PDF-1.4\nv2"))
    container.documents.add_version(SYSTEM, other_id, incoming(b"%PDF-1.4\nother v2"))
    container.documents.add_version(SYSTEM, document_id, incoming(b"%PDF-1.4\nv3"))

    assert [v.number for v in versions_of(container, document_id)] == [1, 2, 3]
    assert [v.number for v in versions_of(container, other_id)] == [1, 2]


def test_same_content_in_two_versions_is_stored_once(container: Container, build: Builders) -> None:
    document_id = build.document(b"%PDF-1.4\nsame")

    container.documents.add_version(SYSTEM, document_id, incoming(b"%PDF-1.4\nsame"))

    assert [v.number for v in versions_of(container, document_id)] == [1, 2]
    assert len(list(container.store.iter_objects())) == 1


def test_create_and_add_version_are_audited(container: Container, build: Builders) -> None:
    document_id = build.document(b"%PDF-1.4\nv1")
    version_id = container.documents.add_version(SYSTEM, document_id, incoming(b"%PDF-1.4\nv2"))

    with container.reader() as uow:
        actions = [
            (e.action, e.object_id)
            for e in uow.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
        ]
    assert (AuditAction.DOCUMENT_CREATED.value, str(document_id)) in actions
    assert actions[-1] == (AuditAction.VERSION_ADDED.value, str(version_id))


def test_version_cannot_be_modified_through_the_orm(container: Container, build: Builders) -> None:
    document_id = build.document(b"%PDF-1.4\nv1")
    [original] = versions_of(container, document_id)

    with container.writer() as uow:
        version = uow.session.get(Version, original.id)
        assert version is not None
        version.original_name = "autre.pdf"
        with pytest.raises(ValueError, match="immutable"):
            uow.commit()

    [after] = versions_of(container, document_id)
    assert after.original_name == "lettre.pdf"


def test_version_cannot_be_deleted_through_the_orm(container: Container, build: Builders) -> None:
    document_id = build.document(b"%PDF-1.4\nv1")
    [original] = versions_of(container, document_id)

    with container.writer() as uow:
        version = uow.session.get(Version, original.id)
        uow.session.delete(version)
        with pytest.raises(ValueError, match="immutable"):
            uow.commit()

    assert [v.id for v in versions_of(container, document_id)] == [original.id]


def test_when_the_insert_fails_no_document_row_is_kept(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_flush(self: Session, objects: object = None) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Session, "flush", failing_flush)
    with pytest.raises(RuntimeError, match="database went away"):
        container.documents.create(
            SYSTEM, DocumentData("Lettre"), incoming(b"%PDF-1.4\nstored, then the insert fails")
        )
    monkeypatch.undo()

    assert count(container, Document) == 0
    assert count(container, Version) == 0
    # The file was written first; `ged check` reports it as an orphan.
    sha256 = hashlib.sha256(b"%PDF-1.4\nstored, then the insert fails").hexdigest()
    assert container.store.exists(sha256)


def test_when_the_version_insert_fails_no_version_row_is_kept(
    container: Container, build: Builders, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = build.document(b"%PDF-1.4\nv1")

    def failing_flush(self: Session, objects: object = None) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Session, "flush", failing_flush)
    with pytest.raises(RuntimeError, match="disk full"):
        container.documents.add_version(SYSTEM, document_id, incoming(b"%PDF-1.4\nv2"))
    monkeypatch.undo()

    assert [v.number for v in versions_of(container, document_id)] == [1]


def test_when_the_store_fails_no_row_is_written(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing_put(*_args: object, **_kwargs: object) -> None:
        raise StorageError("Impossible d'enregistrer le fichier : No space left on device")

    monkeypatch.setattr(container.store, "put", failing_put)

    with pytest.raises(StorageError):
        container.documents.create(
            SYSTEM, DocumentData("Lettre"), incoming(b"%PDF-1.4\nnever stored")
        )

    assert count(container, Document) == 0


def test_file_over_the_limit_is_refused_with_no_row_and_no_file(container: Container) -> None:
    limit = container.settings.store.max_file_mb * 1024 * 1024
    too_big = io.BytesIO(b"%PDF-1.4\n" + b"\0" * (limit + 1))

    with pytest.raises(ValidationError, match="taille maximale"):
        container.documents.create(
            SYSTEM, DocumentData("Trop gros"), IncomingFile(too_big, "gros.pdf", "application/pdf")
        )

    assert count(container, Document) == 0
    assert list(container.store.iter_objects()) == []
    assert list(container.store.iter_temp_files()) == []


def test_empty_title_is_refused_before_anything_is_stored(container: Container) -> None:
    with pytest.raises(ValidationError, match="titre"):
        container.documents.create(SYSTEM, DocumentData("   "), incoming(b"%PDF-1.4\ndata"))

    assert list(container.store.iter_objects()) == []


def test_version_of_an_unknown_document_is_refused(container: Container) -> None:
    with pytest.raises(NotFound):
        container.documents.add_version(SYSTEM, 999, incoming(b"%PDF-1.4\ndata"))

    assert count(container, Version) == 0


@pytest.mark.parametrize(
    "content",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"<!doctype html><script>alert(1)</script>",
        b"%!PS-Adobe-3.0\n%PDF-1.7\n",
        b"",
    ],
)
def test_the_service_refuses_what_is_not_pdf_jpeg_png_or_tiff_whatever_its_label(
    container: Container, build: Builders, content: bytes
) -> None:
    """The library checks the bytes itself, even when a caller skipped ``check_upload``."""
    document_id = build.document()
    files = set(container.store.iter_objects())

    with pytest.raises(ValidationError, match=r"« plan\.pdf »"):
        container.documents.create(SYSTEM, DocumentData("Plan"), incoming(content, "plan.pdf"))
    with pytest.raises(ValidationError, match=r"« plan\.pdf »"):
        container.documents.add_version(SYSTEM, document_id, incoming(content, "plan.pdf"))

    assert count(container, Document) == 1
    assert [v.number for v in versions_of(container, document_id)] == [1]
    assert set(container.store.iter_objects()) == files


def test_the_version_takes_the_type_its_bytes_announce_not_the_declared_one(
    container: Container, build: Builders
) -> None:
    document_id = build.document()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16

    container.documents.add_version(SYSTEM, document_id, incoming(png, "scan.pdf"))

    assert [v.media_type for v in versions_of(container, document_id)] == [
        "application/pdf",
        "image/png",
    ]
