"""Correcting a registered mail from its page: the form, who may, refusals, escaping, history."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import events, form_token, snapshot, text
from tests.e2e.mail.conftest import Office, days_ago, mail_row, register

MARKUP = "<script>alert('objet')</script> Demande"


@pytest.fixture
def mail_id(office: Office, container: Container, build: Builders) -> int:
    """Incoming to URB, registered by the registrar twenty days ago."""
    return register(
        container,
        build,
        office.registrar,
        unit_ids=(office.urba,),
        mail_date=days_ago(container, 20),
        sender_reference="REF-2026/17",
    ).id


def edit_data(token: str, office: Office, **fields: Any) -> dict[str, Any]:
    """The edit form as the browser posts it, for an incoming mail to URB; ``fields`` override."""
    data: dict[str, Any] = {
        "csrf_token": token,
        "subject": "Demande d'autorisation de construire",
        "correspondent": "Commune urbaine de Rabat",
        "correspondent_id": "",
        "letter_date": "",
        "mail_date": "",
        "sender_reference": "REF-2026/17",
        "mail_type_id": "",
        "priority": "normal",
        "channel": "post",
        "unit_ids": [str(office.urba)],
    }
    data.update(fields)
    return data


def post_edit(client: FlaskClient, mail_id: int, office: Office, **fields: Any) -> TestResponse:
    token = form_token(client, f"/mail/{mail_id}/edit")
    return client.post(f"/mail/{mail_id}/edit", data=edit_data(token, office, **fields))


def test_edit_form_is_prefilled_from_the_mail(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("registrar")

    page = auth.client.get(f"/mail/{mail_id}/edit")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    mail = mail_row(container, mail_id)
    assert f"Modifier le courrier {mail.chrono}" in text(page)
    assert re.search(r'<input[^>]*autofocus[^>]*name="subject"', html)
    assert 'value="Demande d&#39;autorisation de construire"' in html
    assert 'value="Commune urbaine de Rabat"' in html
    assert f'name="correspondent_id" type="hidden" value="{mail.correspondent_id}"' in html
    assert 'value="REF-2026/17"' in html
    assert f'value="{mail.mail_date.isoformat()}"' in html
    assert re.search(rf'value="{office.urba}"\s+checked', html)
    # Nothing to change the number, the direction or the files with.
    for name in ("direction", "chrono", "status", "files", "answer_to"):
        assert f'name="{name}"' not in html


def test_registrar_corrects_a_mail_and_the_history_shows_it(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("registrar")
    before = mail_row(container, mail_id)

    response = post_edit(
        auth.client,
        mail_id,
        office,
        subject="Demande de note de renseignements",
        priority="urgent",
        unit_ids=[str(office.urba), str(office.legal)],
        mail_type_id=str(office.request_type),
        # Not fields of the form: ignored whatever they say.
        chrono="A-1999-000001",
        direction="outgoing",
        status="closed",
    )

    assert response.status_code == 303
    assert response.location.endswith(f"/mail/{mail_id}")
    after = mail_row(container, mail_id)
    assert after.subject == "Demande de note de renseignements"
    assert after.priority == "urgent"
    assert after.due_on is not None
    assert (after.chrono, after.direction, after.status) == (
        before.chrono,
        before.direction,
        before.status,
    )
    page = auth.client.get(response.location)
    body = text(page)
    assert "Courrier modifié." in body
    assert "Modification du courrier" in body
    assert "Modifié : objet, type, priorité, entités destinataires" in body
    [event] = events(container, AuditAction.MAIL_UPDATED)
    assert event.details["subject"] == [before.subject, "Demande de note de renseignements"]


def test_modifier_link_is_shown_only_to_those_who_may_correct(
    office: Office, auth: AuthActions, new_client: Any, mail_id: int
) -> None:
    link = f'href="/mail/{mail_id}/edit"'
    for username, shown in [
        ("registrar", True),
        ("admin", True),
        ("agent", False),
        ("auditor", False),
    ]:
        browser = new_client()
        browser.login(username)
        page = browser.client.get(f"/mail/{mail_id}")
        assert page.status_code == 200
        assert (link in page.get_data(as_text=True)) is shown, username


@pytest.mark.parametrize("username", ["auditor", "agent"])
def test_auditor_and_agent_get_403_and_change_nothing(
    office: Office, auth: AuthActions, container: Container, mail_id: int, username: str
) -> None:
    auth.login(username)
    token = form_token(auth.client, f"/mail/{mail_id}")  # they see the mail
    before = snapshot(container)

    page = auth.client.get(f"/mail/{mail_id}/edit")
    posted = auth.client.post(
        f"/mail/{mail_id}/edit", data=edit_data(token, office, subject="Modifié")
    )

    assert (page.status_code, posted.status_code) == (403, 403)
    assert snapshot(container) == before


def test_mail_the_user_cannot_see_is_404(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("legal")  # JUR: the mail is addressed to URB
    token = form_token(auth.client, "/mail/new")
    before = snapshot(container)

    page = auth.client.get(f"/mail/{mail_id}/edit")
    posted = auth.client.post(
        f"/mail/{mail_id}/edit", data=edit_data(token, office, subject="Intrusion")
    )
    missing = auth.client.get("/mail/999999/edit")

    assert [page.status_code, posted.status_code, missing.status_code] == [404, 404, 404]
    assert snapshot(container) == before


def test_post_without_csrf_token_is_refused_and_changes_nothing(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("registrar")
    before = snapshot(container)

    response = auth.client.post(
        f"/mail/{mail_id}/edit", data=edit_data("", office, subject="Sans jeton")
    )

    assert response.status_code == 400
    assert "le jeton de sécurité du formulaire manque ou a expiré" in text(response)
    assert snapshot(container) == before


def test_refused_correction_is_400_with_the_message_and_the_values_kept(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("registrar")
    tomorrow = container.registry.today() + dt.timedelta(days=1)
    before = snapshot(container)

    response = post_edit(
        auth.client,
        mail_id,
        office,
        subject="Objet corrigé",
        sender_reference="N/Réf. 99",
        mail_date=tomorrow.isoformat(),
    )

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "La date de réception ou d'envoi est dans le futur." in text(response)
    assert 'value="Objet corrigé"' in html
    assert 'value="N/Réf. 99"' in html
    assert re.search(r'<input[^>]*autofocus[^>]*name="mail_date"', html)
    assert snapshot(container) == before


def test_empty_subject_is_refused_in_french(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("registrar")

    response = post_edit(auth.client, mail_id, office, subject="   ")

    assert response.status_code == 400
    assert "L'objet du courrier est obligatoire." in text(response)
    assert mail_row(container, mail_id).subject == "Demande d'autorisation de construire"


def test_markup_typed_in_a_correction_is_escaped_everywhere(
    office: Office, auth: AuthActions, container: Container, mail_id: int
) -> None:
    auth.login("registrar")

    response = post_edit(
        auth.client,
        mail_id,
        office,
        subject=MARKUP,
        correspondent='"><img src=x onerror=alert(1)>',
        sender_reference="<b>REF</b>",
    )
    assert response.status_code == 303
    assert mail_row(container, mail_id).subject == MARKUP

    for path in (f"/mail/{mail_id}", f"/mail/{mail_id}/edit"):
        html = auth.client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html
        assert "<img src=x" not in html
        assert "<b>REF</b>" not in html
        assert "&lt;script&gt;alert(" in html


def test_refused_values_with_markup_come_back_escaped(
    office: Office, auth: AuthActions, mail_id: int
) -> None:
    auth.login("registrar")

    response = post_edit(auth.client, mail_id, office, subject=MARKUP, priority="vital")

    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html


def test_the_registering_agent_corrects_an_internal_note(
    office: Office, auth: AuthActions, container: Container, build: Builders
) -> None:
    note = register(
        container,
        build,
        office.agent,
        direction="internal",
        correspondent_name="",
        unit_ids=(office.urba,),
    ).id
    auth.login("agent")

    response = post_edit(auth.client, note, office, subject="Note corrigée", correspondent="")

    assert response.status_code == 303
    assert mail_row(container, note).subject == "Note corrigée"
