"""The registration screen: what a secretary types and attaches, and what is kept when it fails."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ged.adapters.orm import Correspondent, Mail, MailDocument, Version
from ged.bootstrap import Container
from ged.domain.model import MailStatus
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import redirects_to_login, snapshot, text
from tests.e2e.mail.conftest import (
    PNG,
    Office,
    count,
    form_data,
    mail_row,
    pdf,
    post_registration,
    register,
    stored_files,
    upload,
)


def test_registration_form_opens_on_the_subject_with_today_as_received_date(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")

    page = auth.client.get("/mail/new")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'enctype="multipart/form-data"' in html
    assert re.search(r'<input[^>]*autofocus[^>]*name="subject"', html)
    assert f'value="{container.registry.today().isoformat()}"' in html
    # Every control has a label; the mail type shows its delay.
    for name in ("direction", "subject", "correspondent", "letter_date", "mail_date"):
        assert f'for="{name}"' in html
    assert "Demande · délai 10 jours ouvrés" in text(page)


def test_registrar_registers_incoming_mail_with_two_files_the_first_being_main(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")

    response = post_registration(
        auth.client,
        subject="Demande de note de renseignements urbanistiques",
        unit_ids=[str(office.urba)],
        mail_type_id=str(office.request_type),
        files=[upload("lettre.pdf", pdf("main")), upload("plan de situation.png", PNG)],
    )

    assert response.status_code == 303
    page = auth.client.get(response.location)
    body = text(page)
    chrono = f"A-{container.registry.today().year}-000001"
    assert f"Courrier enregistré sous le numéro {chrono}." in body  # the flash
    assert f"Courrier {chrono}" in body
    assert f'href="/mail/{response.location.rsplit("/", 1)[1]}/receipt.pdf"' in page.get_data(
        as_text=True
    )
    assert "Demande de note de renseignements urbanistiques" in body
    mail_id = int(response.location.rsplit("/", 1)[1])
    with container.reader() as uow:
        names = uow.session.execute(
            select(Version.original_name)
            .join(MailDocument, MailDocument.document_id == Version.document_id)
            .where(MailDocument.mail_id == mail_id)
            .order_by(MailDocument.position)
        ).scalars()
        assert list(names) == ["lettre.pdf", "plan de situation.png"]
    assert body.index("lettre.pdf") < body.index("plan de situation.png")
    assert "principal" in body
    assert mail_row(container, mail_id).due_on is not None  # from the mail type's delay


REFUSALS = {
    "missing subject": (
        {"subject": "   "},
        [("lettre.pdf", pdf())],
        "L'objet du courrier est obligatoire.",
    ),
    "SVG disguised as PDF": (
        {},
        [
            ("lettre.pdf", pdf()),
            (
                "scan.pdf",
                b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            ),
        ],
        "n'est pas un PDF, JPEG, PNG ou TIFF",
    ),
    "HTML disguised as PDF": (
        {},
        [("lettre.pdf", b"<!doctype html><html><script>alert(1)</script></html>")],
        "n'est pas un PDF, JPEG, PNG ou TIFF",
    ),
    "no unit for incoming": (
        {"unit_ids": []},
        [("lettre.pdf", pdf())],
        "Choisissez au moins une entité destinataire.",
    ),
    "unknown answered mail": (
        {"direction": "outgoing", "answer_to": "A-2026-999999"},
        [("lettre.pdf", pdf())],
        "Aucun courrier arrivée ne porte le numéro « A-2026-999999 ».",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refused_registration_keeps_the_values_stores_nothing_and_consumes_no_chrono(
    case: str, office: Office, auth: AuthActions, container: Container
) -> None:
    fields, files, message = REFUSALS[case]
    auth.login("registrar")
    auth.client.get("/mail/new")
    before, files_before = snapshot(container), stored_files(container)

    response = post_registration(
        auth.client,
        **{
            "subject": "Réclamation du lotissement Al Amal",
            "sender_reference": "REF-KEEP-42",
            "unit_ids": [str(office.urba)],
            **fields,
            "files": [upload(name, content) for name, content in files],
        },
    )

    assert response.status_code == 400
    body = text(response)
    assert message in body
    assert 'value="REF-KEEP-42"' in response.get_data(as_text=True)  # what was typed is kept
    assert "Sélectionnez à nouveau les fichiers" in body
    assert snapshot(container) == before  # no mail, document, version, correspondent, counter
    assert stored_files(container) == files_before
    assert count(container, Mail) == count(container, Version) == 0

    accepted = post_registration(auth.client, unit_ids=[str(office.urba)])
    assert accepted.status_code == 303
    assert mail_row(container, int(accepted.location.rsplit("/", 1)[1])).chrono.endswith("-000001")


def test_invalid_date_is_a_form_error_with_status_400(office: Office, auth: AuthActions) -> None:
    auth.login("registrar")

    response = post_registration(auth.client, unit_ids=[str(office.urba)], letter_date="31/02")

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_registration_without_csrf_token_is_refused_and_stores_nothing(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")
    before = snapshot(container)

    response = auth.client.post(
        "/mail/new",
        data={**form_data("forged"), "unit_ids": [str(office.urba)]},
        content_type="multipart/form-data",
    )

    assert response.status_code == 400
    assert snapshot(container) == before


def test_chrono_status_and_owner_in_the_form_are_ignored(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")

    response = post_registration(
        auth.client,
        unit_ids=[str(office.urba)],
        chrono="A-1999-000777",
        status=MailStatus.CLOSED.value,
        registered_by_id=str(office.admin),
        number="777",
    )

    mail = mail_row(container, int(response.location.rsplit("/", 1)[1]))
    assert mail.chrono.endswith("-000001")
    assert mail.status == MailStatus.REGISTERED.value
    assert mail.registered_by_id == office.registrar


def test_auditor_cannot_register_and_nothing_is_stored(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("auditor")
    before, files_before = snapshot(container), stored_files(container)

    response = post_registration(
        auth.client, unit_ids=[str(office.urba)], files=[upload("lettre.pdf", pdf())]
    )

    assert response.status_code == 403
    assert snapshot(container) == before
    assert stored_files(container) == files_before


def test_agent_registers_internal_mail_but_not_incoming(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("agent")
    page = text(auth.client.get("/mail/new"))
    assert "vous pouvez enregistrer le courrier interne" in page
    assert '<option selected value="internal">' in page

    refused = post_registration(auth.client, unit_ids=[str(office.urba)])
    internal = post_registration(
        auth.client, direction="internal", correspondent="", unit_ids=[str(office.legal)]
    )

    assert refused.status_code == 403
    assert internal.status_code == 303
    assert mail_row(container, int(internal.location.rsplit("/", 1)[1])).chrono.startswith("I-")


def test_typed_correspondent_is_created_once_then_suggested(
    office: Office, auth: AuthActions, container: Container
) -> None:
    auth.login("registrar")

    post_registration(auth.client, correspondent="Cabinet d'architecte Benali", unit_ids=["1"])
    post_registration(auth.client, correspondent="cabinet d'architecte  BENALI", unit_ids=["1"])
    suggestions = auth.client.get("/mail/correspondents?q=benali")

    with container.reader() as uow:
        names = uow.session.execute(select(Correspondent.name)).scalars().all()
    assert names == ["Cabinet d'architecte Benali"]
    assert suggestions.status_code == 200
    assert "<html" not in suggestions.get_data(as_text=True)  # a fragment for htmx
    assert 'data-correspondent-name="Cabinet d&#39;architecte Benali"' in suggestions.get_data(
        as_text=True
    )


@pytest.mark.parametrize("path", ["/mail/new", "/mail/{mail_id}/edit"])
def test_the_correspondent_field_asks_for_suggestions_as_one_types(
    office: Office, auth: AuthActions, build: Builders, container: Container, path: str
) -> None:
    mail_id = register(container, build, office.registrar, unit_ids=(office.urba,)).id
    auth.login("registrar")

    page = auth.client.get(path.format(mail_id=mail_id)).get_data(as_text=True)

    field = re.search(r'<input[^>]*\bid="correspondent"[^>]*>', page)
    assert field, "no correspondent field"
    # htmx reads hx-* or data-hx-* attributes only: an hx_get attribute is never sent.
    assert 'data-hx-get="/mail/correspondents"' in field.group(0)
    assert 'data-hx-target="#correspondent-suggestions"' in field.group(0)
    assert 'data-hx-trigger="input changed delay:250ms"' in field.group(0)
    assert "hx_" not in field.group(0)


def test_suggestions_show_similar_names_as_possible_duplicates(
    office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    register(container, build, office.registrar, unit_ids=(office.urba,))  # Commune urbaine…
    auth.login("registrar")

    # "Commune de Rabat" is not "Commune urbaine de Rabat", but it probably means it.
    response = auth.client.get("/mail/correspondents", query_string={"q": "Commune de Rabat"})

    body = text(response)
    assert "Commune urbaine de Rabat" in body
    assert "il sera créé à l'enregistrement" in body
    assert "doublons possibles" in body


def test_picked_suggestion_is_used_by_id(
    office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    first = register(container, build, office.registrar, unit_ids=(office.urba,))
    correspondent_id = mail_row(container, first.id).correspondent_id
    auth.login("registrar")

    response = post_registration(
        auth.client,
        correspondent="texte modifié",
        correspondent_id=str(correspondent_id),
        unit_ids=[str(office.urba)],
    )

    mail = mail_row(container, int(response.location.rsplit("/", 1)[1]))
    assert mail.correspondent_id == correspondent_id


def test_suggestions_need_two_letters_and_a_login(
    office: Office, auth: AuthActions, client: FlaskClient
) -> None:
    anonymous = client.get("/mail/correspondents?q=commune")
    auth.login("registrar")
    one_letter = auth.client.get("/mail/correspondents?q=c")

    assert redirects_to_login(anonymous)
    assert one_letter.status_code == 200
    assert one_letter.get_data(as_text=True).strip() == ""


def test_outgoing_answer_registered_with_the_incoming_chrono_marks_it_answered(
    office: Office, auth: AuthActions, build: Builders, container: Container
) -> None:
    incoming = register(container, build, office.registrar, unit_ids=(office.urba,))
    auth.login("registrar")
    prefilled = auth.client.get(
        "/mail/new", query_string={"direction": "outgoing", "answer_to": incoming.chrono}
    )
    assert f'value="{incoming.chrono}"' in prefilled.get_data(as_text=True)

    response = post_registration(
        auth.client,
        direction="outgoing",
        subject="Réponse à votre demande",
        answer_to=incoming.chrono.lower(),
        files=[upload("reponse.pdf", pdf())],
    )

    assert response.status_code == 303
    outgoing = mail_row(container, int(response.location.rsplit("/", 1)[1]))
    assert outgoing.chrono.startswith("D-")
    assert outgoing.answer_to_id == incoming.id
    assert mail_row(container, incoming.id).status == MailStatus.ANSWERED.value
