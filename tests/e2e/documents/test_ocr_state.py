"""The OCR state on the document and mail pages: badges, retry button, thumbnail, searchable PDF."""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from pathlib import Path

from ged.bootstrap import Container
from ged.domain.model import AuditAction, Role
from ged.services.audit import Actor
from ged.services.mail import MailInput
from ged.services.uploads import Upload
from tests.e2e.conftest import People, events
from tests.e2e.documents.conftest import PDF, Library, closed, fetch, versions_of
from tests.integration.ocr import builders as pdfs


def test_a_failed_ocr_shows_its_reason_and_can_be_retried(
    login: Callable[[str], Library], container: Container, people: People
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF)  # a PDF by its first bytes, unreadable
    [version] = versions_of(container, document_id)

    page = agent.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-ocr="failed"' in page
    assert "endommagé" in page
    assert "Relancer l&#39;OCR" in page or "Relancer l'OCR" in page

    response = agent.post(
        f"/documents/{document_id}/versions/{version.id}/ocr", f"/documents/{document_id}"
    )
    assert response.status_code == 303
    assert response.location.endswith(f"/documents/{document_id}")
    [event] = events(container, AuditAction.OCR_RETRIED)
    assert event.actor_id == people.agent


def test_retry_without_a_csrf_token_is_refused(
    login: Callable[[str], Library], container: Container
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF)
    [version] = versions_of(container, document_id)
    response = closed(
        agent.client.post(f"/documents/{document_id}/versions/{version.id}/ocr", buffered=True)
    )
    assert response.status_code in (400, 403)
    assert events(container, AuditAction.OCR_RETRIED) == []


def test_a_done_ocr_shows_pages_thumbnail_and_searchable_pdf(
    login: Callable[[str], Library], container: Container, tmp_path: Path
) -> None:
    agent = login("agent")
    document_id = agent.create(pdfs.text_pdf(tmp_path / "note.pdf").read_bytes(), "note.pdf")

    page = agent.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert 'data-ocr="done"' in page
    assert "1 page" in page
    assert f"/documents/{document_id}/thumbnail" in page

    thumbnail = fetch(agent.client, f"/documents/{document_id}/thumbnail")
    assert thumbnail.status_code == 200
    assert thumbnail.mimetype == "image/jpeg"
    assert thumbnail.data[:3] == b"\xff\xd8\xff"
    assert events(container, AuditAction.DOCUMENT_DOWNLOADED) == []  # thumbnails: not audited

    searchable = fetch(agent.client, f"/documents/{document_id}/searchable")
    assert searchable.status_code == 200
    assert searchable.mimetype == "application/pdf"
    assert searchable.data.startswith(b"%PDF")
    assert searchable.headers["Content-Disposition"].startswith("attachment;")
    [event] = events(container, AuditAction.DOCUMENT_DOWNLOADED)
    assert event.details == {
        "version_id": versions_of(container, document_id)[0].id,
        "derived": "searchable",
    }


def test_derived_files_and_retry_follow_the_document_permissions(
    login: Callable[[str], Library], container: Container, outsider: int, tmp_path: Path
) -> None:
    agent = login("agent")
    done = agent.create(pdfs.text_pdf(tmp_path / "note.pdf").read_bytes(), "note.pdf")
    failed = agent.create(PDF)
    [version] = versions_of(container, failed)
    stranger = login("outsider")
    assert fetch(stranger.client, f"/documents/{done}/thumbnail").status_code == 404
    assert fetch(stranger.client, f"/documents/{done}/searchable").status_code == 404
    response = stranger.post(f"/documents/{failed}/versions/{version.id}/ocr", "/documents/")
    assert response.status_code == 404
    assert events(container, AuditAction.OCR_RETRIED) == []


def test_the_mail_page_shows_each_file_ocr_state(
    login: Callable[[str], Library], container: Container, people: People, tmp_path: Path
) -> None:
    registrar = login("registrar")
    from tests.builders import Builders

    actor = Builders(container).actor(people.registrar)
    registered = container.registry.register(
        actor,
        MailInput(
            direction="incoming",
            subject="Demande",
            correspondent_name="Commune de Témara",
            unit_ids=(people.unit_id,),
        ),
        [
            Upload(io.BytesIO(pdfs.text_pdf(tmp_path / "a.pdf").read_bytes()), "lettre.pdf"),
            Upload(io.BytesIO(PDF), "annexe.pdf"),
        ],
    )
    page = registrar.client.get(f"/mail/{registered.id}").get_data(as_text=True)
    assert 'data-ocr="done"' in page
    assert 'data-ocr="failed"' in page
    assert f'name="mail_id" value="{registered.id}"' in page

    [(document, version)] = [
        (d, v)
        for d, v in container.registry.get(actor, registered.id).documents
        if v.original_name == "annexe.pdf"
    ]
    response = registrar.post(
        f"/documents/{document.id}/versions/{version.id}/ocr",
        f"/mail/{registered.id}",
        mail_id=str(registered.id),
    )
    assert response.status_code == 303
    assert response.location.endswith(f"/mail/{registered.id}")


def test_a_failed_ocr_is_explained_in_the_reader_s_language(
    login: Callable[[str], Library], container: Container, people: People
) -> None:
    agent = login("agent")
    document_id = agent.create(PDF)  # a PDF by its first bytes, unreadable
    french = agent.client.get(f"/documents/{document_id}").get_data(as_text=True)
    assert "endommagé" in french

    container.accounts.set_locale(Actor(people.agent, "agent", Role.AGENT, people.unit_id), "ar")
    page = html.unescape(agent.client.get(f"/documents/{document_id}").get_data(as_text=True))

    assert 'data-ocr="failed"' in page
    assert "الملف تالف أو غير مقروء." in page
    assert "endommagé" not in page
