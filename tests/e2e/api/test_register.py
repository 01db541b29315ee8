"""``POST /api/v1/mail``: fields and files in one multipart body, refused cleanly when wrong."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from ged.adapters.orm import Correspondent
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from tests.e2e.api.conftest import (
    PNG,
    Org,
    assert_problem,
    days_ago,
    incoming,
    pdf,
    post_mail,
    state,
)
from tests.e2e.conftest import events


def stored_files(container: Container) -> list[str]:
    return [name for name, _path in container.store.iter_objects()]


def test_letter_dated_after_its_arrival_is_refused(
    client: FlaskClient, org: Org, container: Container
) -> None:
    response = post_mail(
        client, org, **incoming(org, letter_date=days_ago(container, -3).isoformat())
    )

    body = assert_problem(response, 400)
    assert body["errors"] == {
        "letter_date": ["La date de la lettre est postérieure à sa date de réception ou d'envoi."]
    }


def test_registrar_registers_incoming_mail_with_files_and_gets_its_chrono(
    client: FlaskClient, org: Org, container: Container
) -> None:
    year = container.registry.today().year

    response = post_mail(
        client,
        org,
        files=[(pdf("main"), "courrier.pdf"), (PNG, "annexe.png")],
        **incoming(org, sender_reference="REF/2026/17", priority="urgent", channel="hand"),
    )

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["chrono"] == f"A-{year}-000001"
    assert response.headers["Location"] == f"/api/v1/mail/{body['id']}"
    mail = client.get(response.headers["Location"], headers=org.headers("registrar")).get_json()
    assert (mail["subject"], mail["direction"], mail["status"]) == (
        "Demande d'autorisation",
        "incoming",
        "registered",
    )
    assert (mail["sender_reference"], mail["priority"], mail["channel"]) == (
        "REF/2026/17",
        "urgent",
        "hand",
    )
    assert mail["correspondent"]["name"] == "Société Atlas"
    assert [u["code"] for u in mail["units"]] == ["DG"]
    assert [(d["name"], d["media_type"], d["size"], d["version"]) for d in mail["documents"]] == [
        ("courrier.pdf", "application/pdf", len(pdf("main")), 1),
        ("annexe.png", "image/png", len(PNG), 1),
    ]
    assert mail["registered_by"] == "Personne registrar"
    [event] = events(container, AuditAction.MAIL_REGISTERED)
    assert event.actor_name == "registrar"
    assert event.details["files"] == ["courrier.pdf", "annexe.png"]


def test_second_registration_gets_the_next_chrono(client: FlaskClient, org: Org) -> None:
    first = post_mail(client, org, **incoming(org)).get_json()["chrono"]
    second = post_mail(client, org, **incoming(org, subject="Relance")).get_json()["chrono"]

    assert first.endswith("-000001")
    assert second.endswith("-000002")


def test_registration_with_an_existing_correspondent_and_dates(
    client: FlaskClient, org: Org, container: Container
) -> None:
    first = post_mail(client, org, **incoming(org)).get_json()
    with container.reader() as uow:
        atlas = uow.session.execute(
            select(Correspondent.id).where(Correspondent.name == "Société Atlas")
        ).scalar_one()
    today = container.registry.today()

    response = post_mail(
        client,
        org,
        direction="incoming",
        subject="Suite",
        correspondent_id=atlas,
        unit_ids=[org.dg, org.drh],
        letter_date=today.isoformat(),
        mail_date=today.isoformat(),
        confidential="true",
        person_ids=[org.people.agent],
    )

    assert response.status_code == 201
    mail = client.get(response.headers["Location"], headers=org.headers("registrar")).get_json()
    assert mail["correspondent"] == {"id": atlas, "name": "Société Atlas"}
    assert mail["letter_date"] == mail["mail_date"] == today.isoformat()
    assert mail["confidential"] is True
    assert [u["code"] for u in mail["units"]] == ["DG", "DRH"]
    assert [p["id"] for p in mail["people"]] == [org.people.agent]
    assert first["id"] != mail["id"]


@pytest.mark.parametrize(
    "field",
    ["chrono", "status", "registered_by_id", "owner_id", "role", "year", "number"],
)
def test_fields_a_client_may_not_set_are_refused_and_nothing_is_registered(
    client: FlaskClient, org: Org, container: Container, field: str
) -> None:
    before = state(container)

    response = post_mail(
        client, org, files=[(pdf(), "lettre.pdf")], **incoming(org, **{field: "1"})
    )

    body = assert_problem(response, 422)
    assert list(body["errors"]) == [field]
    assert body["errors"][field] == [
        "Champ non accepté : il n'existe pas ou ne peut pas être fixé par le client."
    ]
    assert body["detail"] == (
        f"Requête refusée. {field} : "
        "Champ non accepté : il n'existe pas ou ne peut pas être fixé par le client."
    )
    assert state(container) == before
    assert stored_files(container) == []
    # No chrono was used: the next registration still gets number 1.
    assert post_mail(client, org, **incoming(org)).get_json()["chrono"].endswith("-000001")


def test_invalid_fields_are_each_named_in_french(client: FlaskClient, org: Org) -> None:
    response = post_mail(
        client,
        org,
        direction="arrivee",
        subject="Objet",
        correspondent_name="Atlas",
        unit_ids=["DG", str(2**40)],
        mail_date="23/11/2026",
        confidential="peut-être",
    )

    body = assert_problem(response, 422)
    assert body["title"] == "invalid"
    assert body["errors"] == {
        "direction": ["Valeur inconnue ; valeurs possibles : incoming, outgoing, internal."],
        "unit_ids.0": ["Nombre entier attendu."],
        "unit_ids.1": ["Identifiant invalide."],
        "mail_date": ["Date attendue au format AAAA-MM-JJ."],
        "confidential": ["Valeur attendue : true ou false."],
    }


def test_missing_required_fields_are_named(client: FlaskClient, org: Org) -> None:
    body = assert_problem(post_mail(client, org, correspondent_name="Atlas"), 422)

    assert body["errors"] == {
        "direction": ["Champ obligatoire."],
        "subject": ["Champ obligatoire."],
    }


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"subject": "   "}, "subject", "L'objet du courrier est obligatoire."),
        ({"unit_ids": []}, "unit_ids", "Choisissez au moins une entité destinataire."),
        ({"correspondent_name": ""}, "correspondent", "Indiquez le correspondant."),
        ({"unit_ids": [999_999]}, "unit_ids", "Une des entités destinataires n'existe pas."),
        ({"mail_type_id": 999_999}, "mail_type_id", "Ce type de courrier n'existe pas."),
    ],
    ids=["blank-subject", "no-unit", "no-correspondent", "unknown-unit", "unknown-type"],
)
def test_rules_of_the_registry_answer_a_french_problem_naming_the_field(
    client: FlaskClient,
    org: Org,
    container: Container,
    overrides: dict[str, object],
    field: str,
    message: str,
) -> None:
    before = state(container)

    response = post_mail(client, org, files=[(pdf(), "lettre.pdf")], **incoming(org, **overrides))

    body = assert_problem(response, 400)
    assert body["detail"] == message
    assert body["errors"] == {field: [message]}
    assert state(container) == before
    assert stored_files(container) == []


def test_future_received_date_is_refused(
    client: FlaskClient, org: Org, container: Container
) -> None:
    tomorrow = days_ago(container, -1)

    response = post_mail(client, org, **incoming(org, mail_date=tomorrow.isoformat()))

    body = assert_problem(response, 400)
    assert body["detail"] == "La date de réception ou d'envoi est dans le futur."


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "lettre.pdf"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image.png"),
        (b"", "vide.pdf"),
    ],
    ids=["html-as-pdf", "svg-as-png", "empty"],
)
def test_refused_file_leaves_no_mail_no_file_and_no_chrono(
    client: FlaskClient, org: Org, container: Container, content: bytes, name: str
) -> None:
    before = state(container)

    response = post_mail(client, org, files=[(pdf(), "bon.pdf"), (content, name)], **incoming(org))

    body = assert_problem(response, 400)
    assert f"« {name} »" in body["detail"]
    assert body["errors"] == {"files": [body["detail"]]}
    assert state(container) == before
    assert stored_files(container) == []


def test_agent_may_not_register_incoming_mail(client: FlaskClient, org: Org) -> None:
    body = assert_problem(post_mail(client, org, "agent", **incoming(org)), 403)

    assert body["detail"] == "Seul le bureau d'ordre enregistre le courrier arrivée et départ."


def test_auditor_may_not_register_anything(client: FlaskClient, org: Org) -> None:
    response = post_mail(
        client, org, "auditor", direction="internal", subject="Note", unit_ids=[org.dg]
    )

    assert_problem(response, 403)


def test_agent_registers_internal_mail(client: FlaskClient, org: Org) -> None:
    response = post_mail(
        client, org, "agent", direction="internal", subject="Note de service", unit_ids=[org.dg]
    )

    assert response.status_code == 201
    assert response.get_json()["chrono"].startswith("I-")


def test_json_body_is_refused_as_unsupported(client: FlaskClient, org: Org) -> None:
    response = client.post("/api/v1/mail", json=incoming(org), headers=org.headers("registrar"))

    body = assert_problem(response, 415)
    assert "multipart/form-data" in body["detail"]


def test_html_in_fields_comes_back_as_data_not_markup(client: FlaskClient, org: Org) -> None:
    payload = '<img src=x onerror="alert(1)">'
    response = post_mail(client, org, **incoming(org, subject=payload, correspondent_name=payload))

    mail = client.get(response.headers["Location"], headers=org.headers("registrar"))
    assert mail.mimetype == "application/json"
    assert mail.get_json()["subject"] == payload
    assert mail.headers["X-Content-Type-Options"] == "nosniff"
