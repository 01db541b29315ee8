"""``GET /api/v1/mail/<id>`` and ``GET /api/v1/documents/<id>/content``: 404 for what one may
not see, attachments with RFC 6266 names, every download audited."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from flask.testing import FlaskClient

from ged.bootstrap import Container
from ged.domain.model import AuditAction
from ged.services.audit import Actor
from tests.builders import SYSTEM
from tests.e2e.api.conftest import PNG, Org, assert_problem, pdf, register
from tests.e2e.conftest import events


def test_mail_detail_has_units_people_documents_comments_and_answers(
    client: FlaskClient, org: Org, container: Container
) -> None:
    incoming = register(
        container,
        [org.dg, org.drh],
        "Demande",
        files=[(pdf("a"), "demande.pdf"), (PNG, "plan.png")],
        person_ids=(org.people.agent,),
    )
    answer = register(
        container, [org.dg], "Réponse", direction="outgoing", answer_to_id=incoming.id
    )
    container.registry.comment(
        Actor.of(container.admin.get_user(SYSTEM, org.people.agent)), incoming.id, "Vu."
    )

    response = client.get(f"/api/v1/mail/{incoming.id}", headers=org.headers("agent"))

    assert response.status_code == 200
    mail = response.get_json()
    assert (mail["id"], mail["chrono"], mail["status"]) == (
        incoming.id,
        incoming.chrono,
        "answered",
    )
    assert [(u["code"], u["name"]) for u in mail["units"]] == [
        ("DG", "Direction générale"),
        ("DRH", "Ressources humaines"),
    ]
    assert mail["people"] == [{"id": org.people.agent, "full_name": "Personne agent"}]
    documents = mail["documents"]
    assert [(d["name"], d["media_type"], d["size"], d["version"]) for d in documents] == [
        ("demande.pdf", "application/pdf", len(pdf("a")), 1),
        ("plan.png", "image/png", len(PNG), 1),
    ]
    assert documents[0]["content_url"] == f"/api/v1/documents/{documents[0]['id']}/content"
    assert [(c["author"], c["body"]) for c in mail["comments"]] == [("Personne agent", "Vu.")]
    assert mail["answers"] == [
        {"id": answer.id, "chrono": answer.chrono, "subject": "Réponse", "status": "registered"}
    ]
    assert mail["answer_to"] is None
    assert mail["registered_by"] == "système"


def test_mail_of_another_unit_answers_404_like_a_missing_one(
    client: FlaskClient, org: Org, container: Container
) -> None:
    mail = register(container, [org.dg], files=[(pdf(), "lettre.pdf")])

    hidden = client.get(f"/api/v1/mail/{mail.id}", headers=org.headers("outsider"))
    missing = client.get("/api/v1/mail/999999", headers=org.headers("outsider"))

    assert assert_problem(hidden, 404) == assert_problem(missing, 404)
    assert hidden.get_json()["detail"] == "Courrier introuvable."


def test_confidential_mail_answers_404_to_its_unit_and_is_audited_when_read_by_name(
    client: FlaskClient, org: Org, container: Container
) -> None:
    mail = register(container, [org.dg], confidential=True, person_ids=(org.outsider,))

    assert_problem(client.get(f"/api/v1/mail/{mail.id}", headers=org.headers("agent")), 404)
    assert_problem(client.get(f"/api/v1/mail/{mail.id}", headers=org.headers("registrar")), 404)
    named = client.get(f"/api/v1/mail/{mail.id}", headers=org.headers("outsider"))

    assert named.status_code == 200
    [viewed] = events(container, AuditAction.MAIL_VIEWED)
    assert (viewed.actor_name, viewed.object_id) == ("outsider", str(mail.id))


def test_identifiers_out_of_range_answer_404(client: FlaskClient, org: Org) -> None:
    for path in ("/api/v1/mail/0", f"/api/v1/mail/{2**40}", f"/api/v1/documents/{2**40}/content"):
        assert_problem(client.get(path, headers=org.headers("registrar")), 404)


# --- downloads ----------------------------------------------------------------------------


def document_ids(client: FlaskClient, org: Org, mail_id: int) -> list[int]:
    mail = client.get(f"/api/v1/mail/{mail_id}", headers=org.headers("registrar")).get_json()
    return [d["id"] for d in mail["documents"]]


def test_download_is_an_attachment_with_its_name_and_is_audited(
    client: FlaskClient, org: Org, container: Container
) -> None:
    name = '../../etc/رسالة \u202efdp.exe "2026".pdf'
    mail = register(container, [org.dg], files=[(pdf("contenu"), name)])
    [document_id] = document_ids(client, org, mail.id)

    with client.get(
        f"/api/v1/documents/{document_id}/content", headers=org.headers("agent")
    ) as response:
        content = response.get_data()

    assert response.status_code == 200
    assert content == pdf("contenu")
    assert response.mimetype == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    # The stored name lost its directories and the right-to-left override; filename* keeps
    # the rest exactly, the ASCII fallback has no quote that could end it early.
    kept = 'رسالة fdp.exe "2026".pdf'
    assert disposition.endswith(f"filename*=UTF-8''{quote(kept, safe='')}")
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback == "fdp.exe 2026.pdf"
    [event] = events(container, AuditAction.DOCUMENT_DOWNLOADED)
    assert (event.actor_name, event.object_id) == ("agent", str(document_id))


def test_download_of_a_named_version(client: FlaskClient, org: Org, container: Container) -> None:
    mail = register(container, [org.dg], files=[(pdf("v1"), "lettre.pdf")])
    [document_id] = document_ids(client, org, mail.id)
    version_id = client.get(f"/api/v1/mail/{mail.id}", headers=org.headers("agent")).get_json()[
        "documents"
    ][0]["version_id"]

    with client.get(
        f"/api/v1/documents/{document_id}/content",
        query_string={"version": version_id},
        headers=org.headers("agent"),
    ) as response:
        assert response.get_data() == pdf("v1")
    with client.get(
        f"/api/v1/documents/{document_id}/content",
        query_string={"version": version_id + 1000},
        headers=org.headers("agent"),
    ) as missing:
        assert assert_problem(missing, 404)["detail"] == "Version introuvable."


@pytest.mark.parametrize("username", ["outsider", "manager"])
def test_document_of_a_mail_one_may_not_see_answers_404_and_sends_nothing(
    client: FlaskClient, org: Org, container: Container, username: str
) -> None:
    hidden_unit = org.drh if username == "manager" else org.dg
    mail = register(container, [hidden_unit], files=[(pdf("secret"), "lettre.pdf")])
    [document_id] = document_ids(client, org, mail.id)

    with client.get(
        f"/api/v1/documents/{document_id}/content", headers=org.headers(username)
    ) as response:
        body = assert_problem(response, 404)
        assert b"secret" not in response.get_data()

    assert body["detail"] == "Document introuvable."
    assert events(container, AuditAction.DOCUMENT_DOWNLOADED) == []
