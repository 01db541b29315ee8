"""An incoming mail through its whole circuit from the task pages, and what a step refuses."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ged.adapters.orm import Document, MailDocument, Task, TaskAttachment
from ged.bootstrap import Container
from ged.domain.model import MailStatus
from tests.e2e.conftest import snapshot, text
from tests.e2e.mail.conftest import pdf
from tests.e2e.tasks.conftest import (
    Login,
    action,
    complete,
    mail_status,
    make_overdue,
    task_form,
    task_state,
)
from tests.integration.circuits.conftest import Office, footprint


def test_a_mail_goes_from_dispatch_to_visa_through_the_web_forms(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register("Demande de note de renseignements")
    director, agent, chef = login("directeur"), login("agent"), login("chef")
    dispatch = office.task(office.director, "dispatch", mail_id)

    page = text(director.get(f"/tasks/{dispatch.id}"))
    assert "Dispatcher le courrier" in page
    assert "Demande de note de renseignements" in page  # the mail summary
    assert f'href="/mail/{mail_id}"' in director.get(f"/tasks/{dispatch.id}").get_data(True)
    deadline = container.tasks.today() + dt.timedelta(days=20)
    response = complete(
        director,
        dispatch.id,
        "dispatch",
        addressed_unit=str(office.sau),
        processing_deadline=deadline.isoformat(),
        comment="Pour suite à donner.",
    )
    assert response.status_code == 303, text(response)
    assert response.location.endswith("/tasks/")
    assert "traitée" in text(director.get(response.location))

    process = office.task(office.agent, "process", mail_id)
    assert process.candidate_unit_id == office.sau
    assert container.tasks.due_date(process.due_at) == deadline  # type: ignore[arg-type]
    assert mail_status(container, mail_id) == MailStatus.IN_PROGRESS
    # The agent finds it in the pool tab, takes it, and it moves to "my tasks".
    assert f"/tasks/{process.id}" in agent.get("/tasks/?tab=pool").get_data(True)
    assert action(agent, process.id, "claim").status_code == 303
    assert f"/tasks/{process.id}" in agent.get("/tasks/").get_data(True)
    assert (
        complete(agent, process.id, "answer", comment="Projet de réponse joint.").status_code == 303
    )

    visa = office.task(office.chef, "visa", mail_id)
    page = text(chef.get(f"/tasks/{visa.id}"))
    assert "Pour suite à donner." in page  # the history shows the earlier comments
    assert "Projet de réponse joint." in page
    response = complete(chef, visa.id, "return", comment="Citer le règlement d'aménagement.")
    assert response.status_code == 303

    again = office.task(office.agent, "process", mail_id)
    assert again.id != process.id
    assert "Citer le règlement d'aménagement." in text(agent.get(f"/tasks/{again.id}"))
    assert complete(agent, again.id, "answer").status_code == 303
    final = office.task(office.chef, "visa", mail_id)
    assert complete(chef, final.id, "approve").status_code == 303

    assert mail_status(container, mail_id) == MailStatus.ANSWERED
    [progress] = container.tasks.progress(office.clerk, mail_id)
    assert [(s.bpmn_id, s.outcome) for s in progress.steps] == [
        ("dispatch", "dispatch"),
        ("process", "answer"),
        ("visa", "return"),
        ("process", "answer"),
        ("visa", "approve"),
    ]
    assert progress.steps[0].comment == "Pour suite à donner."


def test_consulting_units_sends_one_opinion_task_to_each_checked_unit(
    office: Office, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")

    response = complete(
        agent, process.id, "consult", consulted_units=[str(office.sj), str(office.other)]
    )

    assert response.status_code == 303, text(response)
    assert office.task(office.legal, "give_opinion", mail_id).candidate_unit_id == office.sj
    assert office.task(office.stranger, "give_opinion", mail_id).candidate_unit_id == office.other


def test_a_missing_required_value_is_refused_with_the_form_kept_and_nothing_changed(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    before = footprint(container)

    response = complete(agent, process.id, "consult", comment="Mon brouillon")

    assert response.status_code == 400
    page = text(response)
    assert "Entités consultées pour avis" in page
    assert "Mon brouillon" in page  # what was typed is still there
    assert footprint(container) == before


def test_an_unknown_outcome_is_refused_with_the_choices_named(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    before = footprint(container)

    response = complete(agent, process.id, "approve")

    assert response.status_code == 400
    assert "n'est pas une suite possible" in text(response)
    assert footprint(container) == before


def test_a_form_submitted_twice_is_refused_the_second_time_and_changes_nothing(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    form = task_form(agent, process.id)
    assert complete(agent, process.id, "close", form=form).status_code == 303
    before = footprint(container)

    again = complete(agent, process.id, "close", form=form)

    assert again.status_code == 409
    assert "Cette tâche a déjà été traitée par Personne agent" in text(again)
    assert footprint(container) == before


def test_a_form_older_than_the_task_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    stale = task_form(agent, process.id)
    # The task moves on meanwhile (taken, then given back to the pool).
    container.tasks.claim(office.agent, process.id)
    container.tasks.release(office.agent, process.id)
    before = footprint(container)

    response = complete(agent, process.id, "close", form=stale)

    assert response.status_code == 409
    assert "a changé depuis que vous l'avez ouverte" in text(response)
    assert footprint(container) == before


def test_completing_without_the_csrf_token_is_refused_and_changes_nothing(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    _, version = task_form(agent, process.id)
    before = snapshot(container)

    response = agent.post(
        f"/tasks/{process.id}/complete", data={"version": version, "outcome": "close"}
    )

    assert response.status_code == 400
    assert "jeton de sécurité" in text(response)
    assert snapshot(container) == before
    assert task_state(container, process.id) == "open"


def test_files_added_at_a_step_become_documents_of_the_mail_and_are_shown(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")

    response = complete(agent, process.id, "answer", files=(("projet-réponse.pdf", pdf("projet")),))

    assert response.status_code == 303, text(response)
    with container.reader() as uow:
        [document_id] = uow.session.execute(
            select(TaskAttachment.document_id).where(TaskAttachment.task_id == process.id)
        ).scalars()
        assert (
            uow.session.execute(
                select(MailDocument.mail_id).where(MailDocument.document_id == document_id)
            ).scalar_one()
            == mail_id
        )
        assert uow.session.get(Document, document_id) is not None
    page = text(agent.get(f"/tasks/{process.id}"))
    assert "Pièces jointes de cette étape" in page
    assert "projet-réponse.pdf" in page
    visa = office.task(office.chef, "visa", mail_id)
    chef = login("chef")
    assert "projet-réponse.pdf" in text(chef.get(f"/tasks/{visa.id}"))
    download = chef.get(f"/documents/{document_id}/download")
    assert download.status_code == 200
    assert download.data.startswith(b"%PDF")
    download.close()


def test_a_refused_file_keeps_the_task_open_and_stores_nothing(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    before = snapshot(container)
    files_before = {p for p in container.store.root.rglob("*") if p.is_file()}

    response = complete(
        agent, process.id, "answer", files=(("page.html", b"<html><script>x</script></html>"),)
    )

    assert response.status_code == 400
    assert "Sélectionnez à nouveau les fichiers" in text(response)
    assert snapshot(container) == before
    assert {p for p in container.store.root.rglob("*") if p.is_file()} == files_before


def test_escalation_tasks_are_acknowledged_by_the_manager(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    make_overdue(container, process.id)
    container.tasks.escalate_overdue()
    with container.reader() as uow:
        escalation = uow.session.execute(
            select(Task.id).where(Task.escalated_task_id == process.id)
        ).scalar_one()
    chef = login("chef")
    page = text(chef.get(f"/tasks/{escalation}"))
    assert "Pris en compte" in page

    assert complete(chef, escalation, "acknowledge").status_code == 303
    assert task_state(container, escalation) == "done"


def test_a_form_without_the_task_version_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    token, _ = task_form(agent, process.id)
    before = snapshot(container)

    response = agent.post(
        f"/tasks/{process.id}/complete", data={"csrf_token": token, "outcome": "close"}
    )

    assert response.status_code == 400
    assert "rechargez la page" in text(response)
    assert snapshot(container) == before
