"""`ged check`: every version has its intact file; orphans and leftovers are reported, not touched."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ged.adapters.orm import AuditEvent, Version
from ged.bootstrap import Container
from ged.services.documents import DocumentData, IncomingFile
from ged.services.integrity import check_integrity
from tests.builders import SYSTEM, Builders
from tests.integration.conftest import GedCommand


def version_of(container: Container, document_id: int) -> Version:
    with container.reader() as uow:
        return uow.session.execute(
            select(Version).where(Version.document_id == document_id)
        ).scalar_one()


def add_document(container: Container, content: bytes) -> Version:
    document_id = container.documents.create(
        SYSTEM,
        DocumentData("Lettre"),
        IncomingFile(io.BytesIO(content), "lettre.pdf", "application/pdf"),
    )
    return version_of(container, document_id)


@pytest.fixture
def instance(ged: GedCommand) -> Container:
    """An initialised instance holding two documents, and a container on it."""
    ged.ok("init")
    container = ged.container()
    add_document(container, b"%PDF-1.4 first letter")
    add_document(container, b"%PDF-1.4 second letter")
    return container


# --- through the command ------------------------------------------------------------------------


def test_check_passes_on_a_healthy_store(ged: GedCommand, instance: Container) -> None:
    result = ged("check")

    assert result.exit_code == 0, result.output
    assert "2 versions, 2 stored files" in result.output
    assert result.output.splitlines()[-1] == "OK"


def test_check_passes_on_a_fresh_instance(ged: GedCommand) -> None:
    ged.ok("init")

    result = ged.ok("check")

    assert "0 versions, 0 stored files, 1 audit events" in result.output
    assert "OK" in result.output


def test_check_fails_naming_the_version_whose_file_is_missing(
    ged: GedCommand, instance: Container
) -> None:
    version = add_document(instance, b"%PDF-1.4 will vanish")
    instance.store.path_for(version.sha256).unlink()

    result = ged("check")

    assert result.exit_code == 1
    assert f"FAULT  version {version.id}: file {version.sha256} is missing" in result.output
    assert "1 fault(s)" in result.output
    assert "OK" not in result.output.splitlines()


def test_check_fails_when_the_bytes_are_altered_at_the_same_size(
    ged: GedCommand, instance: Container
) -> None:
    version = add_document(instance, b"%PDF-1.4 montant: 1000 DH")
    path = instance.store.path_for(version.sha256)
    path.write_bytes(b"%PDF-1.4 montant: 9000 DH")
    assert path.stat().st_size == version.size

    result = ged("check")

    assert result.exit_code == 1
    assert f"version {version.id}: file {version.sha256} is damaged" in result.output


def test_check_fails_when_a_file_is_truncated(ged: GedCommand, instance: Container) -> None:
    version = add_document(instance, b"%PDF-1.4 a longer letter that gets cut")
    path = instance.store.path_for(version.sha256)
    path.write_bytes(path.read_bytes()[:10])

    result = ged("check")

    assert result.exit_code == 1
    assert f"version {version.id}:" in result.output


def test_check_fails_on_an_emptied_file(ged: GedCommand, instance: Container) -> None:
    version = add_document(instance, b"%PDF-1.4 zeroed by a crash")
    instance.store.path_for(version.sha256).write_bytes(b"")

    result = ged("check")

    assert result.exit_code == 1
    assert f"version {version.id}:" in result.output


def test_orphan_file_is_reported_and_kept(ged: GedCommand, instance: Container) -> None:
    # What a crash between writing the file and committing the row leaves behind.
    stored = instance.store.put_bytes(b"bytes no version names")
    orphan = instance.store.path_for(stored.sha256)

    result = ged("check")

    assert result.exit_code == 1
    assert f"ORPHAN objects/{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}" in (
        result.output
    )
    assert "0 fault(s), 1 orphan file(s)" in result.output
    assert orphan.read_bytes() == b"bytes no version names"


def test_stray_file_in_objects_is_reported_as_orphan_and_kept(
    ged: GedCommand, instance: Container
) -> None:
    stray = instance.store.objects / "copied-by-hand.pdf"
    stray.write_bytes(b"?")

    result = ged("check")

    assert result.exit_code == 1
    assert "ORPHAN objects/copied-by-hand.pdf" in result.output
    assert stray.exists()


def test_leftover_temp_file_is_a_note_not_a_fault(ged: GedCommand, instance: Container) -> None:
    leftover = instance.store.tmp / "0123abcd.part"
    leftover.write_bytes(b"half an upload")

    result = ged("check")

    assert result.exit_code == 0, result.output
    assert "note   unfinished upload left in tmp/0123abcd.part" in result.output
    assert "OK" in result.output
    assert leftover.exists()


def test_check_fails_when_the_audit_log_was_edited(ged: GedCommand, instance: Container) -> None:
    with instance.writer() as uow:
        uow.session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(ip="10.0.0.1"))
        uow.commit()

    result = ged("check")

    assert result.exit_code == 1
    assert "FAULT  audit event 2:" in result.output


# --- the service directly ---------------------------------------------------------------------


def test_healthy_store_has_no_fault(container: Container, build: Builders) -> None:
    build.document(b"%PDF-1.4\none")
    build.document(b"%PDF-1.4\ntwo")

    report = check_integrity(container.reader, container.store)

    assert report.ok
    assert (report.versions, report.objects, report.faults, report.orphans) == (2, 2, [], [])
    assert report.audit_events > 0


def test_two_versions_sharing_a_file_are_both_checked(
    container: Container, build: Builders
) -> None:
    build.document(b"%PDF-1.4\nsame")
    build.document(b"%PDF-1.4\nsame")

    report = check_integrity(container.reader, container.store)

    assert (report.versions, report.objects, report.ok) == (2, 1, True)


def test_every_version_naming_a_missing_file_is_a_fault(
    container: Container, build: Builders
) -> None:
    first = version_of(container, build.document(b"%PDF-1.4\nshared"))
    second = version_of(container, build.document(b"%PDF-1.4\nshared"))
    container.store.path_for(first.sha256).unlink()

    report = check_integrity(container.reader, container.store)

    assert len(report.faults) == 2
    assert f"version {first.id}:" in report.faults[0]
    assert f"version {second.id}:" in report.faults[1]


def test_check_deletes_nothing(container: Container, build: Builders) -> None:
    build.document(b"%PDF-1.4\nkept")
    orphan = container.store.put_bytes(b"orphan")
    leftover = container.store.tmp / "x.part"
    leftover.write_bytes(b"partial")
    before = sorted(p for p in Path(container.store.root).rglob("*") if p.is_file())

    report = check_integrity(container.reader, container.store)

    assert not report.ok
    assert report.temp_files == ["tmp/x.part"]
    assert container.store.exists(orphan.sha256)
    assert sorted(p for p in Path(container.store.root).rglob("*") if p.is_file()) == before


def test_progress_is_called_once_per_version(container: Container, build: Builders) -> None:
    build.document(b"%PDF-1.4\na")
    build.document(b"%PDF-1.4\nb")
    seen: list[int] = []

    check_integrity(container.reader, container.store, progress=seen.append)

    assert seen == [1, 2]
