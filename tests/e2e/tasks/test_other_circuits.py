"""The other bundled circuits from the web forms: ordered visas, a signatory, a fixed chrono,
and a document's new version."""

from __future__ import annotations

import io

from ged.bootstrap import Container
from ged.domain.model import MailStatus
from ged.services.documents import DocumentData, IncomingFile
from tests.e2e.conftest import text
from tests.e2e.tasks.conftest import Login, complete, mail_status, task_state
from tests.integration.circuits.conftest import Office


def test_an_outgoing_mail_is_drafted_visaed_in_order_signed_and_registered(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register("Réponse à la commune", mail_type=office.outgoing_type)
    clerk = login("greffier")
    draft = office.task(office.clerk, "draft", mail_id)
    page = text(clerk.get(f"/tasks/{draft.id}"))
    assert "Viseurs, dans l'ordre des visas" in page
    assert "Signataire" in page

    response = complete(
        clerk,
        draft.id,
        "submit",
        # The chief first, then the director: the order of the pickers is the order of visas.
        approvers=[str(office.chef.user_id), str(office.director.user_id), ""],
        signatory=str(office.director.user_id),
    )

    assert response.status_code == 303, text(response)
    assert office.inbox(office.director) == []  # one visa at a time
    chef_visa = office.task(office.chef, "approve_draft", mail_id)
    assert complete(login("chef"), chef_visa.id, "approve").status_code == 303
    director = login("directeur")
    director_visa = office.task(office.director, "approve_draft", mail_id)
    assert complete(director, director_visa.id, "approve").status_code == 303
    sign = office.task(office.director, "sign", mail_id)
    assert complete(director, sign.id, "sign").status_code == 303

    register = office.task(office.clerk, "register", mail_id)
    page = text(clerk.get(f"/tasks/{register.id}"))
    assert "Numéro d'ordre" in page
    assert 'name="var-chrono"' not in clerk.get(f"/tasks/{register.id}").get_data(True)
    assert complete(clerk, register.id, "register").status_code == 303
    assert mail_status(container, mail_id) == MailStatus.CLOSED


def test_a_document_is_resubmitted_with_its_new_version_picked_from_a_list(
    office: Office, container: Container, login: Login
) -> None:
    documents = container.documents
    document_id = documents.create(
        office.agent,
        DocumentData(title="Note de présentation"),
        IncomingFile(io.BytesIO(b"%PDF-1.4 note"), "note.pdf", "application/pdf"),
    )
    container.tasks.start_for_document(office.agent, document_id, {"reviewer": "juriste"})
    review = office.task(office.legal, "review")
    juriste = login("juriste")
    assert "Note de présentation" in text(juriste.get(f"/tasks/{review.id}"))
    assert complete(juriste, review.id, "reject", comment="Plan manquant").status_code == 303
    version_id = documents.add_version(
        office.agent,
        document_id,
        IncomingFile(io.BytesIO(b"%PDF-1.4 note v2"), "note-v2.pdf", "application/pdf"),
    )
    rework = office.task(office.agent, "rework")
    agent = login("agent")
    page = text(agent.get(f"/tasks/{rework.id}"))
    assert "Version soumise" in page
    assert "Version 2" in page

    response = complete(agent, rework.id, "resubmit", version=str(version_id))

    assert response.status_code == 303, text(response)
    assert task_state(container, rework.id) == "done"
    assert office.task(office.legal, "review").id != review.id
