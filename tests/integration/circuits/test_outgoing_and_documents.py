"""The outgoing mail and document approval circuits driven through the service layer."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from ged.adapters.orm import CircuitInstance, Mail
from ged.domain.errors import Conflict, NotFound, ValidationError
from ged.domain.model import MailStatus
from ged.services.documents import DocumentData, IncomingFile
from ged.services.tasks import TaskState
from tests.integration.circuits.conftest import Office, footprint


def outgoing(office: Office) -> int:
    return office.register("Réponse à la commune", mail_type=office.outgoing_type)


def test_outgoing_mail_goes_through_drafting_visas_signature_and_registration(
    office: Office,
) -> None:
    mail_id = outgoing(office)
    tasks = office.container.tasks
    draft = office.task(office.clerk, "draft", mail_id)  # the author registered it
    assert draft.assignee_id == office.clerk.user_id

    tasks.complete(
        office.clerk,
        draft.id,
        "submit",
        {"approvers": [office.chef.user_id, "directeur"], "signatory": "directeur"},
    )
    first = office.task(office.chef, "approve_draft", mail_id)
    assert office.inbox(office.director) == []  # one visa at a time, up the hierarchy
    tasks.complete(office.chef, first.id, "approve")
    second = office.task(office.director, "approve_draft", mail_id)
    tasks.complete(office.director, second.id, "approve")
    tasks.complete(office.director, office.task(office.director, "sign", mail_id).id, "sign")
    register = office.task(office.clerk, "register", mail_id)
    assert register.candidate_role == "registrar"
    assert register.state is TaskState.OPEN

    detail = tasks.get(office.clerk, register.id)
    assert detail.form_data["chrono"].startswith("A-")  # prefilled from the mail
    result = tasks.complete(office.clerk, register.id, "register")

    assert result.end_events == ("sent",)
    with office.container.reader() as uow:
        status = uow.session.execute(select(Mail.status).where(Mail.id == mail_id)).scalar_one()
    assert status == MailStatus.CLOSED


def test_a_returned_draft_goes_back_to_its_author_then_through_every_visa_again(
    office: Office,
) -> None:
    mail_id = outgoing(office)
    tasks = office.container.tasks
    chain = {"approvers": ["chef", "directeur"], "signatory": "directeur"}
    tasks.complete(office.clerk, office.task(office.clerk, "draft", mail_id).id, "submit", chain)
    tasks.complete(office.chef, office.task(office.chef, "approve_draft", mail_id).id, "approve")

    tasks.complete(
        office.director,
        office.task(office.director, "approve_draft", mail_id).id,
        "return",
        comment="Reformuler le deuxième paragraphe.",
    )

    redraft = office.task(office.clerk, "draft", mail_id)
    assert tasks.get(office.clerk, redraft.id).form_data["approvers"] == ["chef", "directeur"]
    tasks.complete(office.clerk, redraft.id, "submit", chain)
    assert office.task(office.chef, "approve_draft", mail_id).state is TaskState.CLAIMED


def test_naming_an_unknown_approver_is_refused_and_changes_nothing(office: Office) -> None:
    mail_id = outgoing(office)
    draft = office.task(office.clerk, "draft", mail_id)
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="« personne »"):
        office.container.tasks.complete(
            office.clerk,
            draft.id,
            "submit",
            {"approvers": ["personne"], "signatory": "directeur"},
        )

    assert footprint(office.container) == before


def submit_document(office: Office) -> int:
    return office.container.documents.create(
        office.agent,
        DocumentData(title="Note de présentation du PA"),
        IncomingFile(io.BytesIO(b"%PDF-1.4 note"), "note.pdf", "application/pdf"),
    )


def test_a_document_is_approved_after_a_rejection_and_a_new_version(office: Office) -> None:
    tasks = office.container.tasks
    documents = office.container.documents
    document_id = submit_document(office)
    # The reviewer works in another unit: the task opens the document to them.
    with pytest.raises(NotFound):
        documents.get(office.legal, document_id)

    tasks.start_for_document(office.agent, document_id, {"reviewer": "juriste"})

    assert documents.get(office.legal, document_id).document.id == document_id
    review = office.task(office.legal, "review", None)
    assert review.document_id == document_id
    assert review.mail_id is None
    tasks.complete(office.legal, review.id, "reject", comment="Il manque le plan de masse.")
    rework = office.task(office.agent, "rework", None)
    version_id = documents.add_version(
        office.agent,
        document_id,
        IncomingFile(io.BytesIO(b"%PDF-1.4 note v2"), "note-v2.pdf", "application/pdf"),
    )
    tasks.complete(office.agent, rework.id, "resubmit", {"version": version_id})
    result = tasks.complete(office.legal, office.task(office.legal, "review").id, "approve")

    assert result.finished
    assert result.end_events == ("approved",)
    assert result.mail_status is None
    with pytest.raises(NotFound):
        documents.get(office.stranger, document_id)


def test_a_document_already_in_approval_cannot_be_submitted_twice(office: Office) -> None:
    document_id = submit_document(office)
    office.container.tasks.start_for_document(office.agent, document_id, {"reviewer": "chef"})

    with pytest.raises(Conflict):
        office.container.tasks.start_for_document(office.agent, document_id, {"reviewer": "chef"})

    with office.container.reader() as uow:
        instances = uow.session.execute(
            select(CircuitInstance.id).where(CircuitInstance.document_id == document_id)
        ).all()
    assert len(instances) == 1


def test_submitting_a_document_to_an_unknown_reviewer_is_refused(office: Office) -> None:
    document_id = submit_document(office)
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="fantome"):
        office.container.tasks.start_for_document(
            office.agent, document_id, {"reviewer": "fantome"}
        )

    assert footprint(office.container) == before
