"""The OCR job end to end: upload, extraction in the background (immediate jobs), state, search."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bench.ocr import letters
from ged.adapters.orm import AuditEvent, Document, PageText, VersionText, utcnow
from ged.bootstrap import Container
from ged.domain.errors import Conflict, NotFound, PermissionDenied
from ged.domain.model import AuditAction, Role
from ged.domain.search import SearchQuery
from ged.jobs import EXTRACT_TEXT
from ged.services import capture as capture_module
from ged.services.capture import MAX_ATTEMPTS
from ged.services.mail import MailInput
from ged.services.uploads import Upload
from tests.builders import Builders
from tests.integration.capture.conftest import (
    SYSTEM,
    create,
    latest_version,
    pages,
    text_state,
)
from tests.integration.ocr import builders as pdfs


@pytest.fixture(scope="module")
def french_letter() -> letters.Letter:
    return letters.render(letters.FRENCH[0], "fra", seed=0, skew=0.6)


def found(container: Container, word: str) -> set[str]:
    results = container.search.search(SYSTEM, SearchQuery(text=word))
    return {hit.key for hit in results.hits}


# --- scans (Tesseract) --------------------------------------------------------------------------


@pytest.mark.tesseract
def test_an_uploaded_scan_is_read_and_found_by_its_words(
    container: Container, french_letter: letters.Letter, tmp_path: Path
) -> None:
    png = letters.save_png(french_letter.image, tmp_path / "lettre.png")
    document_id = create(container, png, "image/png", title="Courrier sans titre parlant")

    version_id = latest_version(container, document_id)
    state = text_state(container, version_id)
    assert (state.state, state.error) == ("done", "")
    assert state.searchable_sha256
    assert container.store.exists(state.searchable_sha256)
    assert state.thumbnail_sha256
    assert container.store.exists(state.thumbnail_sha256)
    [page] = pages(container, version_id)
    assert "avancement" in page.text
    assert page.source == "ocr"
    assert page.language == "fra"
    assert page.confidence is not None
    assert page.confidence > 50
    # Only the scan's text holds this word: the title does not.
    assert f"document:{document_id}" in found(container, "avancement")
    views = container.capture.states(SYSTEM, [document_id])
    assert views[version_id].state == "done"
    assert views[version_id].page_count == 1


@pytest.mark.tesseract
def test_a_scanned_mail_is_found_by_a_word_of_its_scan(
    container: Container, french_letter: letters.Letter, tmp_path: Path
) -> None:
    build = Builders(container)
    unit = build.unit()
    registrar = build.actor(build.user(role=Role.REGISTRAR))
    scan = letters.save_pdf([french_letter.image], tmp_path / "scan.pdf")
    registered = container.registry.register(
        registrar,
        MailInput(
            direction="incoming",
            subject="Demande",
            correspondent_name="Commune de Témara",
            unit_ids=(unit,),
        ),
        [Upload(io.BytesIO(scan.read_bytes()), "scan.pdf")],
    )
    [(document, version)] = container.registry.get(SYSTEM, registered.id).documents
    assert text_state(container, version.id).state == "done"
    assert any("calendrier" in page.text for page in pages(container, version.id))
    assert f"mail:{registered.id}" in found(container, "calendrier")
    assert f"document:{document.id}" not in found(container, "calendrier")


# --- text layers and refusals (no Tesseract) -----------------------------------------------------


def test_a_pdf_with_a_text_layer_is_done_without_ocr(container: Container, tmp_path: Path) -> None:
    document_id = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    version_id = latest_version(container, document_id)
    assert text_state(container, version_id).state == "done"
    [page] = pages(container, version_id)
    assert page.source == "text-layer"
    assert "délibérations" in page.text
    assert f"document:{document_id}" in found(container, "délibérations")


def test_a_broken_pdf_fails_with_its_reason_and_the_service_stays_up(
    container: Container, corpus: Path, tmp_path: Path
) -> None:
    document_id = create(container, corpus / "invalid.pdf", "application/pdf")
    state = text_state(container, latest_version(container, document_id))
    assert state.state == "failed"
    assert state.error_code == "malformed"
    assert "illisible" in state.error or "endommagé" in state.error
    assert pages(container, latest_version(container, document_id)) == []
    views = container.capture.states(SYSTEM, [document_id])
    assert views[latest_version(container, document_id)].label == "OCR en échec"

    after = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    assert text_state(container, latest_version(container, after)).state == "done"


def test_a_file_that_is_not_a_document_fails_without_retry(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_process_calls(monkeypatch)
    document_id = Builders(container).document(b"%PDF-1.4 test")  # a PDF by its first bytes only
    version_id = latest_version(container, document_id)
    state = text_state(container, version_id)
    assert (state.state, state.attempts) == ("failed", 0)
    assert state.error
    assert calls == [version_id]


# --- retry, idempotence, sweep -------------------------------------------------------------------


def count_process_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record every version the pipeline is run on (by its work directory's name)."""
    calls: list[int] = []
    real = capture_module.ocr.process

    def counting(path: Path, settings: object, workdir: Path):  # type: ignore[no-untyped-def]
        calls.append(int(workdir.name.removeprefix("version-")))
        return real(path, settings, workdir)  # type: ignore[arg-type]

    monkeypatch.setattr(capture_module.ocr, "process", counting)
    return calls


def test_retry_sets_a_failed_version_back_and_runs_it_again(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = Builders(container)
    document_id = build.document(b"%PDF-1.4 broken")
    version_id = latest_version(container, document_id)
    assert text_state(container, version_id).state == "failed"
    calls = count_process_calls(monkeypatch)

    outsider = build.actor(build.user(role=Role.AGENT))
    with pytest.raises((NotFound, PermissionDenied)):
        container.capture.retry(outsider, version_id)
    registrar = build.actor(build.user(role=Role.REGISTRAR))
    container.capture.retry(registrar, version_id)

    assert calls == [version_id]
    assert text_state(container, version_id).state == "failed"  # the same bad file
    with container.reader() as uow:
        event = uow.session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.OCR_RETRIED.value)
        ).scalar_one()
    assert event.object_id == str(version_id)
    assert event.actor_id == registrar.user_id


def test_only_a_failed_version_can_be_retried(container: Container, tmp_path: Path) -> None:
    document_id = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    with pytest.raises(Conflict):
        container.capture.retry(SYSTEM, latest_version(container, document_id))


def test_the_job_is_idempotent(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    version_id = latest_version(container, document_id)
    first = pages(container, version_id)
    calls = count_process_calls(monkeypatch)

    assert container.jobs.run_now(EXTRACT_TEXT, version_id) == "skipped"  # done: nothing to do
    assert calls == []
    # A duplicate delivery of a version set back to pending reads it again, replacing its pages.
    with container.writer() as uow:
        uow.session.execute(
            update(VersionText).where(VersionText.version_id == version_id).values(state="pending")
        )
        uow.commit()
    assert container.jobs.run_now(EXTRACT_TEXT, version_id) == "done"
    assert container.jobs.run_now(EXTRACT_TEXT, version_id) == "skipped"
    again = pages(container, version_id)
    assert [(p.page, p.text) for p in again] == [(p.page, p.text) for p in first]
    with container.reader() as uow:
        rows = uow.session.execute(
            select(PageText.page).where(PageText.version_id == version_id)
        ).all()
    assert len(rows) == 1
    assert calls == [version_id]


def test_a_version_another_worker_is_reading_is_left_alone(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    version_id = latest_version(container, document_id)
    set_state(container, version_id, "running", utcnow())
    calls = count_process_calls(monkeypatch)
    assert container.jobs.run_now(EXTRACT_TEXT, version_id) == "skipped"
    assert calls == []


def set_state(container: Container, version_id: int, state: str, at: dt.datetime) -> None:
    with container.writer() as uow:
        uow.session.execute(
            update(VersionText)
            .where(VersionText.version_id == version_id)
            .values(state=state, updated_at=at)
        )
        uow.commit()


def test_the_sweep_re_enqueues_lost_and_abandoned_work(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost, killed, recent = (
        latest_version(
            container, create(container, pdfs.text_pdf(tmp_path / f"{n}.pdf"), "application/pdf")
        )
        for n in ("lost", "killed", "recent")
    )
    long_ago = utcnow() - dt.timedelta(hours=3)
    set_state(container, lost, "pending", long_ago)  # its job was lost after the commit
    set_state(container, killed, "running", long_ago)  # its worker was killed
    set_state(container, recent, "pending", utcnow())  # still in the queue: not touched
    calls = count_process_calls(monkeypatch)

    assert container.jobs.run_now("sweep_capture") == 2

    assert sorted(calls) == sorted([lost, killed])
    assert text_state(container, lost).state == "done"
    assert text_state(container, killed).state == "done"
    assert text_state(container, recent).state == "pending"
    assert container.jobs.run_now("sweep_capture") == 0


def test_an_unexpected_error_counts_an_attempt_and_is_raised_for_a_retry(
    container: Container, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document_id = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    version_id = latest_version(container, document_id)
    set_state(container, version_id, "pending", utcnow())

    def broken(*_args: object) -> None:
        raise OSError("disque plein")

    monkeypatch.setattr(capture_module.ocr, "process", broken)
    for attempt in range(1, MAX_ATTEMPTS):
        with pytest.raises(OSError, match="disque plein"):
            container.jobs.run_now(EXTRACT_TEXT, version_id)
        state = text_state(container, version_id)
        assert (state.state, state.attempts) == ("pending", attempt)
    with pytest.raises(OSError, match="disque plein"):
        container.jobs.run_now(EXTRACT_TEXT, version_id)
    state = text_state(container, version_id)
    assert (state.state, state.error_code) == ("failed", "internal")
    assert not (container.settings.instance / "work" / f"version-{version_id}").exists()


def test_ocr_marks_the_document_for_reindexing(container: Container, tmp_path: Path) -> None:
    document_id = create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    with container.reader() as uow:
        document = uow.session.get(Document, document_id)
        assert document is not None
        assert document.indexed_at is not None
        assert document.indexed_at >= document.updated_at
    assert container.search.stale() == ([], [])


def test_derived_files_are_not_orphans(container: Container, tmp_path: Path) -> None:
    from ged.services.integrity import check_integrity

    create(container, pdfs.text_pdf(tmp_path / "note.pdf"), "application/pdf")
    report = check_integrity(container.reader, container.store)
    assert report.orphans == []
    assert report.faults == []
