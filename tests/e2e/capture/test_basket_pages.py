"""The "à qualifier" basket in the browser: who sees it, qualifying, discarding, files, sheets."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.test import TestResponse

from ged.adapters.orm import CaptureDraft, CircuitInstance, Mail, MailDocument, VersionText
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from ged.jobs import EXTRACT_TEXT
from ocr.sheets import Sheet, find_sheets
from tests.builders import SYSTEM, Builders
from tests.conftest import AuthActions
from tests.e2e.capture.conftest import drop_scan
from tests.e2e.conftest import events, form_token, redirects_to_login, snapshot, text
from tests.e2e.mail.conftest import Office, register


def text_of(response: TestResponse) -> str:
    return response.get_data(as_text=True)


HOSTILE = '<script>alert("x")</script>.pdf'


def _draft(container: Container, draft_id: int) -> CaptureDraft:
    with container.reader() as uow:
        return uow.session.execute(
            select(CaptureDraft).where(CaptureDraft.id == draft_id)
        ).scalar_one()


def test_the_registrar_sees_the_waiting_scans_with_their_names_escaped(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    drop_scan(container, tmp_path, HOSTILE, pages=2)
    auth.login("registrar")

    page = auth.client.get("/capture/")

    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;.pdf" in body
    assert "1 scan à qualifier" in text(page)
    assert "2 pages" in text(page)
    assert "OCR en attente" in text(page)
    assert 'href="/capture/separator.pdf"' in body
    # Every form carries its CSRF token and every field its label.
    assert body.count('name="csrf_token"') >= 2
    assert 'for="reason-1"' in body


@pytest.mark.parametrize("username", ["agent", "auditor"])
def test_other_roles_are_refused_the_basket(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path, username: str
) -> None:
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login(username)
    for path in (
        "/capture/",
        f"/capture/drafts/{draft_id}",
        f"/capture/drafts/{draft_id}/scan",
        "/capture/separator.pdf",
    ):
        assert auth.client.get(path).status_code == 403, path


def test_anonymous_visitors_go_to_the_login_page(auth: AuthActions, office: Office) -> None:
    assert redirects_to_login(auth.client.get("/capture/"))
    assert redirects_to_login(auth.client.get("/capture/mail/1/cover.pdf"))


def test_qualifying_registers_the_scan_as_incoming_mail(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login("registrar")
    token = form_token(auth.client, f"/capture/drafts/{draft_id}")

    response = auth.client.post(
        f"/capture/drafts/{draft_id}",
        data={
            "csrf_token": token,
            "subject": "Demande de permis <b>urgent</b>",
            "correspondent": "Commune urbaine",
            "mail_type_id": str(office.request_type),
            "priority": "normal",
            "channel": "post",
            "unit_ids": [str(office.urba)],
        },
    )

    assert response.status_code == 303
    with container.reader() as uow:
        mail = uow.session.execute(select(Mail)).scalar_one()
        linked = uow.session.execute(
            select(MailDocument.document_id).where(MailDocument.mail_id == mail.id)
        ).scalar_one()
    assert response.location.endswith(f"/mail/{mail.id}")
    assert mail.chrono == f"A-{container.tasks.today().year}-000001"
    assert mail.subject == "Demande de permis <b>urgent</b>"
    assert linked == _draft(container, draft_id).document_id
    assert _draft(container, draft_id).state == "qualified"
    assert [e.object_id for e in events(container, AuditAction.DRAFT_QUALIFIED)] == [str(draft_id)]
    # The mail page shows the subject as text, escaped.
    page = auth.client.get(response.location)
    assert "&lt;b&gt;urgent&lt;/b&gt;" in page.get_data(as_text=True)
    # Qualified: it left the basket, and its form sends back to it.
    assert "Aucun scan en attente" in text(auth.client.get("/capture/"))
    again = auth.client.get(f"/capture/drafts/{draft_id}")
    assert again.status_code == 303


def test_a_qualification_the_service_refuses_keeps_the_form_and_the_draft(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login("registrar")
    token = form_token(auth.client, f"/capture/drafts/{draft_id}")
    before = snapshot(container)

    response = auth.client.post(
        f"/capture/drafts/{draft_id}",
        data={
            "csrf_token": token,
            "subject": "Sans entité destinataire",
            "correspondent": "Commune urbaine",
            "priority": "normal",
            "channel": "post",
        },
    )

    assert response.status_code == 400
    assert "Choisissez au moins une entité destinataire." in text(response)
    assert 'value="Sans entité destinataire"' in response.get_data(as_text=True)
    assert snapshot(container) == before


def test_posts_without_csrf_token_change_nothing(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login("registrar")
    before = snapshot(container)
    for path, data in (
        (f"/capture/drafts/{draft_id}", {"subject": "x", "unit_ids": [str(office.urba)]}),
        (f"/capture/drafts/{draft_id}/discard", {"reason": "x"}),
        (f"/capture/drafts/{draft_id}/restore", {}),
    ):
        assert auth.client.post(path, data=data).status_code == 400, path
    assert snapshot(container) == before


def test_discarding_then_putting_back(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    draft_id = drop_scan(container, tmp_path, "publicite.pdf")
    auth.login("registrar")
    token = form_token(auth.client, "/capture/")

    response = auth.client.post(
        f"/capture/drafts/{draft_id}/discard",
        data={"csrf_token": token, "reason": "Publicité <i>non sollicitée</i>"},
    )

    assert response.status_code == 303
    assert _draft(container, draft_id).state == "discarded"
    page = auth.client.get("/capture/")
    assert "Aucun scan en attente" in text(page)
    assert "Publicité &lt;i&gt;non sollicitée&lt;/i&gt;" in page.get_data(as_text=True)
    # Discarded twice: refused with a message, nothing changed.
    again = auth.client.post(
        f"/capture/drafts/{draft_id}/discard", data={"csrf_token": token, "reason": ""}
    )
    assert again.status_code == 303
    assert "déjà été qualifié ou écarté" in text(auth.client.get("/capture/"))

    auth.client.post(f"/capture/drafts/{draft_id}/restore", data={"csrf_token": token})

    assert _draft(container, draft_id).state == "draft"
    assert "1 scan à qualifier" in text(auth.client.get("/capture/"))


def test_an_agent_cannot_discard_or_qualify_by_posting(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login("agent")
    token = form_token(auth.client, "/mail/")
    before = snapshot(container)
    assert (
        auth.client.post(
            f"/capture/drafts/{draft_id}/discard", data={"csrf_token": token}
        ).status_code
        == 403
    )
    assert (
        auth.client.post(
            f"/capture/drafts/{draft_id}",
            data={"csrf_token": token, "subject": "x", "unit_ids": [str(office.urba)]},
        ).status_code
        == 403
    )
    assert snapshot(container) == before


def test_the_scan_and_its_thumbnail_are_served_with_the_sandbox_policy(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login("registrar")

    scan = auth.client.get(f"/capture/drafts/{draft_id}/scan")

    assert scan.status_code == 200
    assert scan.mimetype == "application/pdf"
    assert scan.data.startswith(b"%PDF-")
    assert scan.headers["Content-Security-Policy"].startswith("sandbox;")
    assert scan.headers["X-Content-Type-Options"] == "nosniff"
    scan.close()
    assert auth.client.get(f"/capture/drafts/{draft_id}/thumbnail").status_code == 404
    # Once its OCR has run (French only here), the thumbnail shows in the list.
    with container.reader() as uow:
        version_id = uow.session.execute(
            select(VersionText.version_id).where(VersionText.state == "pending")
        ).scalar_one()
    assert container.jobs.run_now(EXTRACT_TEXT, version_id) == "done"
    thumbnail = auth.client.get(f"/capture/drafts/{draft_id}/thumbnail")
    assert thumbnail.status_code == 200
    assert thumbnail.mimetype == "image/jpeg"
    assert thumbnail.data.startswith(b"\xff\xd8\xff")
    thumbnail.close()
    assert f'src="/capture/drafts/{draft_id}/thumbnail"' in auth.client.get("/capture/").get_data(
        as_text=True
    )


def test_the_cover_sheet_is_printed_for_a_mail_one_may_see(
    office: Office, auth: AuthActions, container: Container, build: Builders, tmp_path: Path
) -> None:
    mail = register(container, build, office.registrar, unit_ids=(office.urba,))
    auth.login("registrar")

    response = auth.client.get(f"/capture/mail/{mail.id}/cover.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"couverture-{mail.chrono}.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Content-Security-Policy"].startswith("sandbox;")
    assert f'href="/capture/mail/{mail.id}/cover.pdf"' in text_of(
        auth.client.get(f"/mail/{mail.id}")
    )
    path = tmp_path / "cover.pdf"
    path.write_bytes(response.data)
    assert find_sheets(path) == [Sheet("cover", mail.chrono)]
    separator = auth.client.get("/capture/separator.pdf")
    assert separator.status_code == 200
    path.write_bytes(separator.data)
    assert find_sheets(path) == [Sheet("separator")]
    # The agent of the addressed unit prints it too; another unit's agent does not find the
    # mail; an auditor never scans.
    auth.logout()
    auth.login("agent")
    assert auth.client.get(f"/capture/mail/{mail.id}/cover.pdf").status_code == 200
    auth.logout()
    auth.login("legal")
    assert auth.client.get(f"/capture/mail/{mail.id}/cover.pdf").status_code == 404
    auth.logout()
    auth.login("auditor")
    assert auth.client.get(f"/capture/mail/{mail.id}/cover.pdf").status_code == 403
    assert 'id="cover-sheet"' not in text_of(auth.client.get(f"/mail/{mail.id}"))
    assert auth.client.get("/capture/mail/999999/cover.pdf").status_code == 403


def test_a_qualified_scan_starts_the_circuit_of_its_type(
    office: Office, auth: AuthActions, container: Container, tmp_path: Path
) -> None:
    with container.writer() as uow:
        container.circuits.deploy_bundled(uow.session, SYSTEM)
        uow.commit()
    circuit_type = container.registry.create_mail_type(
        SYSTEM, "CIR", "Demande avec circuit", 10, "incoming_mail"
    )
    draft_id = drop_scan(container, tmp_path, "lettre.pdf")
    auth.login("registrar")
    token = form_token(auth.client, f"/capture/drafts/{draft_id}")
    response = auth.client.post(
        f"/capture/drafts/{draft_id}",
        data={
            "csrf_token": token,
            "subject": "Demande",
            "correspondent": "Commune urbaine",
            "mail_type_id": str(circuit_type),
            "priority": "normal",
            "channel": "post",
            "unit_ids": [str(office.urba)],
        },
    )
    assert response.status_code == 303
    with container.reader() as uow:
        instances = uow.session.execute(select(CircuitInstance.status)).scalars().all()
    assert instances == ["running"]


@pytest.mark.parametrize(
    ("username", "shown"),
    [("registrar", True), ("admin", True), ("agent", False), ("auditor", False)],
)
def test_the_navigation_bar_links_the_basket_for_those_who_use_it(
    office: Office, auth: AuthActions, username: str, shown: bool
) -> None:
    auth.login(username)

    body = auth.client.get("/").get_data(as_text=True)

    assert ('id="nav-basket"' in body) is shown
    assert ('href="/capture/"' in body) is shown
