"""The mail page: fields, files, history, comments, links, more files; everything escaped."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from ged.adapters.orm import Comment, MailDocument, Version
from ged.bootstrap import Container
from ged.domain.model import MailStatus
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import form_token, snapshot, text
from tests.e2e.mail.conftest import (
    PNG,
    Office,
    days_ago,
    mail_row,
    pdf,
    post_registration,
    register,
    stored_files,
    upload,
)


@pytest.fixture
def incoming(office: Office, build: Builders, container: Container) -> int:
    return register(
        container,
        build,
        office.registrar,
        files=(("lettre.pdf", pdf()), ("annexe.png", PNG)),
        subject="Demande de certificat de conformité",
        sender_reference="N/REF 2026-88",
        unit_ids=(office.urba,),
        mail_type_id=office.request_type,
        mail_date=days_ago(container, 40),
        priority="urgent",
        channel="hand",
    ).id


def test_mail_page_shows_fields_files_and_history_in_words(
    incoming: int, office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("agent")

    page = auth.client.get(f"/mail/{incoming}")

    body = text(page)
    assert page.status_code == 200
    for expected in (
        mail_row(container, incoming).chrono,
        "Demande de certificat de conformité",
        "Commune urbaine de Rabat",
        "N/REF 2026-88",
        "(délai 10 j ouvrés)",
        "Urgente",
        "Dépôt en main propre",
        "Division de l'urbanisme",
        "Personne registrar",
        "En retard",  # received 40 days ago, 10 working days to answer
        "Accusé de réception",
        # Files: name, type, size, version, main first.
        "lettre.pdf",
        "annexe.png",
        "PNG",
        "40 o",
        "principal",
        # History, in French.
        "Enregistrement du courrier",
        "Fichier ajouté",
    ):
        assert expected in body, expected
    assert "mail.registered" not in body.replace('data-action="mail.registered"', "")


def test_mail_page_links_files_to_preview_and_download(incoming: int, auth: AuthActions) -> None:
    auth.login("registrar")

    html = auth.client.get(f"/mail/{incoming}").get_data(as_text=True)

    assert "/preview" in html
    assert "/download" in html


def test_comment_is_added_and_listed_with_its_author(
    incoming: int, auth: AuthActions, container: Container
) -> None:
    auth.login("agent")
    token = form_token(auth.client, f"/mail/{incoming}")

    response = auth.client.post(
        f"/mail/{incoming}/comments",
        data={"csrf_token": token, "body": "Dossier transmis au service\nPièces complètes."},
    )

    assert response.status_code == 303
    assert response.location.endswith(f"/mail/{incoming}#comments")
    page = text(auth.client.get(f"/mail/{incoming}"))
    assert "Commentaire ajouté." in page
    assert "Dossier transmis au service\nPièces complètes." in page
    assert "Personne agent" in page


def test_empty_comment_is_refused_with_400_and_stores_nothing(
    incoming: int, auth: AuthActions, container: Container
) -> None:
    auth.login("agent")
    token = form_token(auth.client, f"/mail/{incoming}")
    before = snapshot(container)

    response = auth.client.post(
        f"/mail/{incoming}/comments", data={"csrf_token": token, "body": "  \n "}
    )

    assert response.status_code == 400
    assert "Le commentaire est vide." in text(response)
    assert snapshot(container) == before


def test_auditor_reads_the_page_but_cannot_comment(
    incoming: int, auth: AuthActions, container: Container
) -> None:
    auth.login("auditor")
    page = auth.client.get(f"/mail/{incoming}")
    token = form_token(auth.client, f"/mail/{incoming}")

    response = auth.client.post(
        f"/mail/{incoming}/comments", data={"csrf_token": token, "body": "Je passe par là"}
    )

    assert page.status_code == 200
    assert f'action="/mail/{incoming}/comments"' not in page.get_data(as_text=True)
    assert response.status_code == 403
    with container.reader() as uow:
        assert uow.session.execute(select(Comment)).first() is None


def test_registrar_links_an_outgoing_answer_and_the_incoming_shows_as_answered(
    incoming: int, office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    outgoing = register(
        container, build, office.registrar, direction="outgoing", subject="Votre certificat"
    )
    auth.login("registrar")
    token = form_token(auth.client, f"/mail/{incoming}")

    response = auth.client.post(
        f"/mail/{incoming}/link", data={"csrf_token": token, "chrono": outgoing.chrono}
    )

    assert response.status_code == 303
    incoming_page = text(auth.client.get(f"/mail/{incoming}"))
    assert f"Liaison avec le courrier {outgoing.chrono} enregistrée." in incoming_page
    assert "Répondu par" in incoming_page
    assert outgoing.chrono in incoming_page
    assert "Réponse enregistrée" in incoming_page  # the history
    assert mail_row(container, incoming).status == MailStatus.ANSWERED.value
    assert 'data-status="answered"' in auth.client.get("/mail/").get_data(as_text=True)
    outgoing_page = text(auth.client.get(f"/mail/{outgoing.id}"))
    assert re.search(
        rf"En réponse à <a [^>]*>{mail_row(container, incoming).chrono}</a>", outgoing_page
    )


def test_link_can_be_recorded_from_the_outgoing_page_too(
    incoming: int, office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    outgoing = register(container, build, office.registrar, direction="outgoing")
    auth.login("registrar")
    token = form_token(auth.client, f"/mail/{outgoing.id}")

    response = auth.client.post(
        f"/mail/{outgoing.id}/link",
        data={"csrf_token": token, "chrono": mail_row(container, incoming).chrono},
    )

    assert response.status_code == 303
    assert mail_row(container, outgoing.id).answer_to_id == incoming


def test_linking_two_incoming_mails_is_refused_with_a_message(
    incoming: int, office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    other = register(container, build, office.registrar, unit_ids=(office.legal,))
    auth.login("registrar")
    token = form_token(auth.client, f"/mail/{incoming}")
    before = snapshot(container)

    wrong = auth.client.post(
        f"/mail/{incoming}/link", data={"csrf_token": token, "chrono": other.chrono}
    )
    unknown = auth.client.post(
        f"/mail/{incoming}/link", data={"csrf_token": token, "chrono": "D-2026-424242"}
    )

    assert wrong.status_code == unknown.status_code == 400
    assert "La réponse doit être un courrier départ." in text(wrong)
    assert "Aucun courrier ne porte le numéro « D-2026-424242 »." in text(unknown)
    assert snapshot(container) == before


def test_agent_cannot_link_mails(
    incoming: int, office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    # The agent sees both mails (the answer was drafted by their unit) but may not link them.
    outgoing = register(
        container, build, office.registrar, direction="outgoing", unit_ids=(office.urba,)
    )
    auth.login("agent")
    page = auth.client.get(f"/mail/{incoming}")
    token = form_token(auth.client, f"/mail/{incoming}")

    response = auth.client.post(
        f"/mail/{incoming}/link", data={"csrf_token": token, "chrono": outgoing.chrono}
    )

    assert f'action="/mail/{incoming}/link"' not in page.get_data(as_text=True)
    assert response.status_code == 403
    assert mail_row(container, incoming).status == MailStatus.REGISTERED.value


def test_more_files_are_attached_after_the_existing_ones(
    incoming: int, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")
    token = form_token(auth.client, f"/mail/{incoming}")

    response = auth.client.post(
        f"/mail/{incoming}/files",
        data={"csrf_token": token, "files": [upload("complément.pdf", pdf("more"))]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 303
    assert "1 fichier(s) ajouté(s)." in text(auth.client.get(f"/mail/{incoming}"))
    with container.reader() as uow:
        names = uow.session.execute(
            select(Version.original_name)
            .join(MailDocument, MailDocument.document_id == Version.document_id)
            .where(MailDocument.mail_id == incoming)
            .order_by(MailDocument.position)
        ).scalars()
        assert list(names) == ["lettre.pdf", "annexe.png", "complément.pdf"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([], "Aucun fichier envoyé."),
        ([upload("photo.jpg", b"<svg onload=alert(1)>")], "n'est pas un PDF, JPEG, PNG ou TIFF"),
    ],
)
def test_refused_attachment_answers_400_and_stores_nothing(
    files: list[object], message: str, incoming: int, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")
    token = form_token(auth.client, f"/mail/{incoming}")
    before, files_before = snapshot(container), stored_files(container)

    response = auth.client.post(
        f"/mail/{incoming}/files",
        data={"csrf_token": token, "files": files},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert message in text(response)
    assert snapshot(container) == before
    assert stored_files(container) == files_before


XSS = "<script>alert('ged')</script>"
XSS_FILE = "<img src=x onerror=alert(1)>.pdf"


def test_user_text_is_escaped_everywhere(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")
    registered = post_registration(
        auth.client,
        subject=f"Objet {XSS}",
        correspondent=f"Société {XSS}",
        sender_reference=XSS[:30],
        unit_ids=[str(office.urba)],
        files=[upload(XSS_FILE, pdf())],
    )
    assert registered.status_code == 303
    mail_page = registered.location
    token = form_token(auth.client, mail_page)
    auth.client.post(f"{mail_page}/comments", data={"csrf_token": token, "body": XSS})

    pages = {
        "mail": auth.client.get(mail_page),
        "list": auth.client.get("/mail/"),
        "search": auth.client.get("/mail/?q=script"),
        "suggestions": auth.client.get("/mail/correspondents?q=Soci"),
    }

    for name, page in pages.items():
        html = page.get_data(as_text=True)
        assert page.status_code == 200, name
        assert "<script>alert" not in html, name
        assert "<img src=x" not in html, name
        assert "&lt;script&gt;" in html, name
    assert text(pages["mail"]).count(XSS) >= 3  # subject, correspondent, comment, all readable
    assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in pages["mail"].get_data(as_text=True)


def test_unknown_mail_is_404(office: Office, auth: AuthActions) -> None:
    auth.login("registrar")

    assert auth.client.get("/mail/999999").status_code == 404
    assert auth.client.get("/mail/999999/receipt.pdf").status_code == 404


def test_just_registered_page_offers_the_receipt_first(office: Office, auth: AuthActions) -> None:
    auth.login("registrar")
    response = post_registration(auth.client, unit_ids=[str(office.urba)])

    first = auth.client.get(response.location).get_data(as_text=True)
    again = auth.client.get(response.location).get_data(as_text=True)

    assert "Imprimez l'accusé de réception" in first
    assert re.search(r'<a[^>]*receipt\.pdf"[^>]*autofocus', first)
    assert not re.search(r'<a[^>]*receipt\.pdf"[^>]*autofocus', again)
    assert "Imprimez l'accusé de réception" not in again
