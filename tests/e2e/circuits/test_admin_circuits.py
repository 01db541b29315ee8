"""The "Circuits" administration page: who sees it, deploying a BPMN version, lane bindings."""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from ged.adapters.orm import CircuitDefinition, LaneBinding
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from ged.services.circuits import Binding, BindingKind
from tests.e2e.conftest import events, form_token, redirects_to_login, snapshot, text
from tests.integration.circuits.conftest import Office
from tests.integration.circuits.test_deploy import late_review
from workflows.engine import bundled_definition
from workflows.parsing import MAX_BYTES

Login = Callable[[str], FlaskClient]
PAYLOAD_RE = re.compile(r'name="payload" type="hidden" value="([^"]+)"')


def multipart(fields: dict[str, str], content: bytes, name: str) -> tuple[bytes, str]:
    """A multipart body built in memory: the test client spools large bodies to a temporary
    file it never closes, which a 2 MB circuit would trigger."""
    boundary = "circuit-boundary-7f3a"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
        for key, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), boundary


def upload(
    client: FlaskClient, content: bytes, name: str = "circuit.bpmn", token: str | None = None
) -> TestResponse:
    fields = {"csrf_token": token or form_token(client, "/admin/circuits")} if token != "" else {}
    body, boundary = multipart(fields, content, name)
    return client.post(
        "/admin/circuits/preview",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def confirm(client: FlaskClient, preview: TestResponse, **bindings: str) -> TestResponse:
    """Post the deploy form of a preview page, with `binding-N` values."""
    html = preview.get_data(as_text=True)
    match = PAYLOAD_RE.search(html)
    assert match, "no payload in the preview page"
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token
    return client.post(
        "/admin/circuits/deploy",
        data={"csrf_token": token.group(1), "payload": match.group(1), **bindings},
    )


def definitions(container: Container, process_id: str) -> list[tuple[int, bool]]:
    with container.reader() as uow:
        return [
            (row.version, row.active)
            for row in uow.session.execute(
                select(CircuitDefinition)
                .where(CircuitDefinition.process_id == process_id)
                .order_by(CircuitDefinition.version)
            ).scalars()
        ]


# -- Who may do what ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("admin", 200),
        ("auditeur", 200),
        ("directeur", 403),
        ("chef", 403),
        ("agent", 403),
        ("greffier", 403),
    ],
)
def test_the_circuits_page_is_for_admins_and_auditors(
    office: Office, login: Login, username: str, status: int
) -> None:
    page = login(username).get("/admin/circuits")

    assert page.status_code == status
    if status == 200:
        assert "Courrier arrivée" in text(page)
        assert "incoming_mail" in text(page)


def test_anonymous_visitors_are_sent_to_the_login_page(office: Office, client: FlaskClient) -> None:
    assert redirects_to_login(client.get("/admin/circuits"))
    assert redirects_to_login(client.get("/admin/holidays"))
    # A post without a session has no valid token either: refused before anything is read.
    assert client.post("/admin/circuits/preview").status_code == 400


def test_auditors_read_the_page_without_the_upload_form(office: Office, login: Login) -> None:
    page = login("auditeur").get("/admin/circuits").get_data(as_text=True)

    assert "/admin/circuits/preview" not in page
    assert 'type="file"' not in page


@pytest.mark.parametrize("username", ["auditeur", "chef", "greffier"])
def test_only_admins_upload_or_deploy(
    office: Office, login: Login, container: Container, username: str
) -> None:
    admin = login("admin")
    preview = upload(admin, late_review())
    payload = PAYLOAD_RE.search(preview.get_data(as_text=True))
    assert payload
    client = login(username)
    token = form_token(client, "/")
    before = snapshot(container)

    uploaded = upload(client, late_review(), token=token)
    deployed = client.post(
        "/admin/circuits/deploy",
        data={"csrf_token": token, "payload": payload.group(1), "binding-0": "initiator"},
    )

    assert uploaded.status_code == deployed.status_code == 403
    assert snapshot(container) == before


# -- The page ----------------------------------------------------------------------------------


def test_the_page_lists_versions_bindings_mail_types_and_running_instances(
    office: Office, login: Login
) -> None:
    office.register()
    office.register()

    html = login("admin").get("/admin/circuits").get_data(as_text=True)

    incoming = unescape(section(html, "incoming_mail"))
    outgoing = unescape(section(html, "outgoing_mail"))
    assert 'data-running="2"' in incoming
    assert "DEM · Demande" in incoming
    assert "Le responsable de l'entité de tête (directeur)" in incoming
    assert "L'entité destinataire" in incoming
    assert "REP · Réponse" in outgoing
    assert "Les titulaires d'un rôle : Bureau d'ordre" in outgoing
    assert 'data-running="0"' in outgoing


def section(html: str, process_id: str) -> str:
    start = html.index(f'id="circuit-{process_id}"')
    return html[start : html.index("</section>", start)]


# -- Deploying ---------------------------------------------------------------------------------


def test_a_new_circuit_is_deployed_with_the_lanes_bound_in_the_form(
    office: Office, login: Login, container: Container
) -> None:
    admin = login("admin")

    preview = upload(admin, late_review())

    assert preview.status_code == 200
    page = text(preview)
    assert "late_review" in page
    assert "Couloir <code>reviewer</code>" in page
    assert "Tâches : Relire" in page
    assert 'value="unit_manager:SAU"' in preview.get_data(as_text=True)
    assert definitions(container, "late_review") == []  # nothing stored before confirming

    deployed = confirm(admin, preview, **{"binding-0": "unit_manager:SAU"})

    assert deployed.status_code == 303
    assert definitions(container, "late_review") == [(1, True)]
    with container.reader() as uow:
        binding = uow.session.execute(
            select(LaneBinding)
            .join(CircuitDefinition, CircuitDefinition.id == LaneBinding.definition_id)
            .where(CircuitDefinition.process_id == "late_review")
        ).scalar_one()
    assert (binding.lane, binding.kind, binding.unit_id) == ("reviewer", "unit_manager", office.sau)
    [event] = [
        e
        for e in events(container, AuditAction.CIRCUIT_DEPLOYED)
        if "late_review" in str(e.details)
    ]
    assert event.actor_name == "admin"
    assert event.details["bindings"] == {"reviewer": "unit_manager:SAU"}
    listing = admin.get("/admin/circuits")
    assert "Circuit late_review : version 1 déployée." in text(listing)
    assert "Relecture" in text(listing)


@pytest.mark.parametrize(
    "binding",
    ["unit:SAU", "role:registrar", "addressed_unit", "addressed_unit_manager", "initiator"],
)
def test_each_kind_of_binding_the_form_offers_deploys(
    office: Office, login: Login, container: Container, binding: str
) -> None:
    admin = login("admin")
    preview = upload(admin, late_review())
    assert f'value="{binding}"' in preview.get_data(as_text=True)

    assert confirm(admin, preview, **{"binding-0": binding}).status_code == 303

    with container.reader() as uow:
        stored = uow.session.execute(select(LaneBinding.kind).join(CircuitDefinition)).all()
    assert (binding.split(":")[0],) in stored


def test_a_new_version_keeps_running_instances_on_theirs(
    office: Office, login: Login, container: Container
) -> None:
    office.register()
    admin = login("admin")
    new_version = bundled_definition("incoming_mail").replace(
        'name="Courrier arrivée"'.encode(), 'name="Courrier arrivée (révisé)"'.encode()
    )

    preview = upload(admin, new_version)
    html = preview.get_data(as_text=True)
    assert "v2 (remplace v1" in text(preview)
    # Every lane starts from version 1's binding.
    assert re.search(r'<option value="top_unit_manager" selected>', html)
    assert re.search(r'<option value="data_unit:consulted_unit" selected>', html)
    lanes = len(re.findall(r'name="binding-\d+"', html))
    chosen = {
        f"binding-{i}": value
        for i, value in enumerate(re.findall(r'<option value="([^"]*)" selected>', html))
    }
    assert len(chosen) == lanes
    deployed = confirm(admin, preview, **chosen)
    office.register()

    assert deployed.status_code == 303
    assert definitions(container, "incoming_mail") == [(1, False), (2, True)]
    page = admin.get("/admin/circuits").get_data(as_text=True)
    rows = re.findall(
        r'data-version="(\d+)">.*?data-running="(\d+)"', section(page, "incoming_mail"), re.S
    )
    assert rows[:2] == [("2", "1"), ("1", "1")]


def test_a_lane_bound_to_nothing_is_refused_and_nothing_is_stored(
    office: Office, login: Login, container: Container
) -> None:
    admin = login("admin")
    preview = upload(admin, late_review())
    before = snapshot(container)

    refused = confirm(admin, preview, **{"binding-0": ""})

    assert refused.status_code == 400
    assert "Couloir(s) sans affectation : reviewer" in text(refused)
    assert 'name="binding-0"' in refused.get_data(as_text=True)  # the form comes back
    assert snapshot(container) == before


@pytest.mark.parametrize(
    ("binding", "message"),
    [
        ("unit:NOPE", "l'entité « NOPE » n'existe pas"),
        ("role:boss", "le rôle « boss » n'existe pas"),
        ("wizard", "Affectation inconnue « wizard »"),
        ("initiator:x", "ne prend pas de valeur"),
    ],
)
def test_a_forged_binding_is_refused_with_its_reason(
    office: Office, login: Login, container: Container, binding: str, message: str
) -> None:
    admin = login("admin")
    preview = upload(admin, late_review())
    before = snapshot(container)

    refused = confirm(admin, preview, **{"binding-0": binding})

    assert refused.status_code == 400
    assert message in text(refused)
    assert snapshot(container) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<bpmn:definitions", "n'est pas un XML bien formé"),
        (b"", "Le fichier est vide"),
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b"<x>&b;</x>",
            "DOCTYPE",
        ),
        (b"<html><body>pas un circuit</body></html>", "n'est pas un diagramme BPMN 2.0"),
        (b"<x>" + b"a" * (MAX_BYTES + 10) + b"</x>", "trop volumineux"),
    ],
)
def test_a_bad_file_is_refused_clearly_and_nothing_is_stored(
    office: Office, login: Login, container: Container, content: bytes, message: str
) -> None:
    admin = login("admin")
    before = snapshot(container)

    refused = upload(admin, content)

    assert refused.status_code == 400
    assert message in text(refused)
    assert "payload" not in refused.get_data(as_text=True)
    assert snapshot(container) == before


def test_an_upload_without_a_file_is_refused(office: Office, login: Login) -> None:
    admin = login("admin")
    token = form_token(admin, "/admin/circuits")

    refused = admin.post(
        "/admin/circuits/preview", data={"csrf_token": token}, content_type="multipart/form-data"
    )

    assert refused.status_code == 400
    assert "Choisissez un fichier." in text(refused)


def test_a_tampered_payload_is_refused(office: Office, login: Login, container: Container) -> None:
    admin = login("admin")
    token = form_token(admin, "/admin/circuits")
    before = snapshot(container)

    refused = admin.post(
        "/admin/circuits/deploy",
        data={"csrf_token": token, "payload": "not base64 at all!", "binding-0": "initiator"},
    )

    assert refused.status_code == 400
    assert "illisible" in text(refused)
    assert snapshot(container) == before


def test_uploads_and_deployments_without_a_csrf_token_are_refused(
    office: Office, login: Login, container: Container
) -> None:
    admin = login("admin")
    preview = upload(admin, late_review())
    payload = PAYLOAD_RE.search(preview.get_data(as_text=True))
    assert payload
    before = snapshot(container)

    uploaded = upload(admin, late_review(), token="")
    deployed = admin.post(
        "/admin/circuits/deploy",
        data={"payload": payload.group(1), "binding-0": "initiator"},
    )

    assert uploaded.status_code == deployed.status_code == 400
    assert "jeton de sécurité" in text(deployed)
    assert snapshot(container) == before


def test_circuit_and_lane_names_are_escaped(office: Office, login: Login) -> None:
    admin = login("admin")
    hostile = late_review("&lt;script&gt;alert('nom')&lt;/script&gt;").replace(
        b'name="reviewer"', b'name="&lt;img src=x onerror=alert(1)&gt;"'
    )

    preview = upload(admin, hostile)
    deployed = confirm(admin, preview, **{"binding-0": "initiator"})
    listing = admin.get("/admin/circuits").get_data(as_text=True)

    assert preview.status_code == 200
    assert deployed.status_code == 303
    for html in (preview.get_data(as_text=True), listing):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    assert "&lt;script&gt;alert(" in listing


def test_the_active_file_with_the_same_bindings_changes_nothing(
    office: Office, login: Login, container: Container
) -> None:
    admin = login("admin")
    preview = upload(admin, bundled_definition("document_approval"))
    html = preview.get_data(as_text=True)
    chosen = {
        f"binding-{i}": value
        for i, value in enumerate(re.findall(r'<option value="([^"]*)" selected>', html))
    }
    before = snapshot(container)

    again = confirm(admin, preview, **chosen)

    assert "Ce fichier est déjà celui de la version active" in text(preview)
    assert again.status_code == 303
    assert "la version 1 est déjà ce fichier avec ces affectations" in text(
        admin.get("/admin/circuits")
    )
    assert snapshot(container) == before
    assert definitions(container, "document_approval") == [(1, True)]


def test_a_previous_binding_the_form_does_not_offer_is_kept_as_the_choice(
    office: Office, login: Login, container: Container
) -> None:
    container.circuits.deploy(
        office.admin, late_review(), {"reviewer": Binding(BindingKind.DATA_USER, "signer")}
    )
    admin = login("admin")

    preview = upload(admin, late_review("Relecture v2"))
    html = preview.get_data(as_text=True)

    assert '<optgroup label="Affectation actuelle">' in html
    assert '<option value="data_user:signer" selected>' in html
    assert "La personne désignée par une variable : « signer »" in text(preview)
    assert confirm(admin, preview, **{"binding-0": "data_user:signer"}).status_code == 303
    assert definitions(container, "late_review") == [(1, False), (2, True)]
