"""The incoming mail circuit driven through the service layer, with everything stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ged.adapters.orm import AuditEvent, CircuitInstance, Mail, Task
from ged.domain.model import AuditAction, MailStatus
from ged.services.circuits import working_calendar
from ged.services.tasks import TaskKind, TaskState
from tests.integration.circuits.conftest import Office, count


def mail_status(office: Office, mail_id: int) -> str:
    with office.container.reader() as uow:
        return uow.session.execute(select(Mail.status).where(Mail.id == mail_id)).scalar_one()


def test_registering_a_mail_starts_its_circuit_with_a_dispatch_task_for_the_director(
    office: Office,
) -> None:
    mail_id = office.register()

    dispatch = office.task(office.director, "dispatch", mail_id)
    assert dispatch.state is TaskState.CLAIMED
    assert dispatch.assignee_id == office.director.user_id
    assert dispatch.mail_chrono is not None
    assert dispatch.mail_chrono.startswith("A-")
    assert count(office.container, CircuitInstance, CircuitInstance.mail_id == mail_id) == 1
    assert mail_status(office, mail_id) == MailStatus.REGISTERED
    detail = office.container.tasks.get(office.director, dispatch.id)
    # The form starts from the registrar's unit and the mail type's deadline.
    assert detail.form_data["addressed_unit"] == office.sau
    assert detail.form_data["processing_deadline"].endswith("+01:00")
    assert [o.name for o in detail.outcomes] == ["dispatch", "file"]
    assert detail.can_complete
    assert detail.can_reassign  # he manages the top unit, where his task belongs


def test_a_mail_type_without_circuit_starts_nothing(office: Office) -> None:
    plain = office.container.registry.create_mail_type(office.admin, "INF", "Information", 5)

    mail_id = office.register(mail_type=plain)

    assert count(office.container, CircuitInstance, CircuitInstance.mail_id == mail_id) == 0
    assert count(office.container, Task, Task.mail_id == mail_id) == 0


def test_dispatch_puts_a_task_due_in_working_days_in_the_unit_pool(office: Office) -> None:
    mail_id = office.register()
    tasks = office.container.tasks

    process = office.dispatch(mail_id, "SAU", days=3)

    with office.container.reader() as uow:
        calendar = working_calendar(uow.session)
    due_day = calendar.add_working_days(tasks.today(), 3)
    assert process.state is TaskState.OPEN
    assert process.candidate_unit_id == office.sau
    assert process.due_at == tasks.deadline_at(due_day)
    assert mail_status(office, mail_id) == MailStatus.IN_PROGRESS
    # The registry shows the deadline the director chose.
    with office.container.reader() as uow:
        due_on = uow.session.execute(select(Mail.due_on).where(Mail.id == mail_id)).scalar_one()
    assert due_on == due_day
    # Both agents of the unit see it in their pool, the legal unit does not.
    assert office.task(office.colleague, "process", mail_id).id == process.id
    assert office.inbox(office.legal) == []


def test_consulting_returning_and_approving_ends_with_the_mail_answered(office: Office) -> None:
    mail_id = office.register()
    tasks = office.container.tasks
    process = office.dispatch(mail_id)
    tasks.claim(office.agent, process.id)

    tasks.complete(
        office.agent, process.id, "consult", {"consulted_units": ["SJ", "AUT"]}, comment="Avis ?"
    )
    opinions = [office.task(office.legal, "give_opinion", mail_id)]
    opinions.append(office.task(office.stranger, "give_opinion", mail_id))
    assert {o.candidate_unit_id for o in opinions} == {office.sj, office.other}
    tasks.complete(office.legal, opinions[0].id, "opinion", comment="Conforme au PA.")
    assert office.inbox(office.agent) == []  # processing waits for every opinion
    tasks.complete(office.stranger, opinions[1].id, "opinion", comment="Rien à signaler.")

    again = office.task(office.agent, "process", mail_id)
    assert again.id != process.id
    assert again.due_at == process.due_at
    tasks.complete(office.colleague, again.id, "answer")
    visa = office.task(office.chef, "visa", mail_id)
    assert visa.assignee_id == office.chef.user_id
    tasks.complete(office.chef, visa.id, "return", comment="Citer le décret.")
    third = office.task(office.agent, "process", mail_id)
    tasks.complete(office.agent, third.id, "answer")
    result = tasks.complete(office.chef, office.task(office.chef, "visa", mail_id).id, "approve")

    assert result.finished
    assert result.end_events == ("answered",)
    assert result.mail_status == MailStatus.ANSWERED
    assert mail_status(office, mail_id) == MailStatus.ANSWERED
    [progress] = tasks.progress(office.clerk, mail_id)
    assert progress.finished
    assert [(s.bpmn_id, s.outcome) for s in progress.steps] == [
        ("dispatch", "dispatch"),
        ("process", "consult"),
        ("give_opinion", "opinion"),
        ("give_opinion", "opinion"),
        ("process", "answer"),
        ("visa", "return"),
        ("process", "answer"),
        ("visa", "approve"),
    ]
    assert [s.comment for s in progress.steps if s.comment] == [
        "Avis ?",
        "Conforme au PA.",
        "Rien à signaler.",
        "Citer le décret.",
    ]
    assert set(progress.done) == {"dispatch", "process", "give_opinion", "visa"}
    assert progress.current == ()
    assert b"incoming_mail" in progress.bpmn
    assert count(office.container, Task, Task.mail_id == mail_id, Task.state == "done") == 8


def test_closing_without_answer_ends_with_the_mail_closed(office: Office) -> None:
    mail_id = office.register()
    tasks = office.container.tasks
    process = office.dispatch(mail_id)
    tasks.complete(office.agent, process.id, "close")

    result = tasks.complete(office.chef, office.task(office.chef, "visa", mail_id).id, "approve")

    assert result.end_events == ("closed",)
    assert mail_status(office, mail_id) == MailStatus.CLOSED


def test_filing_at_dispatch_closes_the_mail_without_processing(office: Office) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)

    result = office.container.tasks.complete(office.director, dispatch.id, "file")

    assert result.finished
    assert result.end_events == ("filed",)
    assert mail_status(office, mail_id) == MailStatus.CLOSED
    with office.container.reader() as uow:
        instance = uow.session.execute(
            select(CircuitInstance).where(CircuitInstance.mail_id == mail_id)
        ).scalar_one()
    assert instance.status == "finished"
    assert instance.finished_at is not None
    assert instance.next_wakeup_at is None


def test_every_step_is_audited_on_the_mail(office: Office) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    office.container.tasks.claim(office.agent, process.id)
    office.container.tasks.release(office.agent, process.id)

    with office.container.reader() as uow:
        actions = list(
            uow.session.execute(
                select(AuditEvent.action)
                .where(AuditEvent.object_type == "mail", AuditEvent.object_id == str(mail_id))
                .order_by(AuditEvent.id)
            ).scalars()
        )
    assert actions == [
        AuditAction.MAIL_REGISTERED,
        AuditAction.CIRCUIT_STARTED,
        AuditAction.TASK_COMPLETED,
        AuditAction.TASK_CLAIMED,
        AuditAction.TASK_RELEASED,
    ]


def test_the_instance_state_is_compact_json_and_its_lock_moves_with_each_step(
    office: Office,
) -> None:
    mail_id = office.register()

    def instance() -> tuple[int, str, dt.datetime | None]:
        with office.container.reader() as uow:
            row = uow.session.execute(
                select(CircuitInstance).where(CircuitInstance.mail_id == mail_id)
            ).scalar_one()
            return row.lock_version, row.state, row.next_wakeup_at

    version, state, wakeup = instance()
    assert version == 1
    assert wakeup is None
    assert "bpmn_process_spec" not in state
    assert len(state) < 20_000
    process = office.dispatch(mail_id, days=2)

    version, _, wakeup = instance()
    assert version == 2
    assert wakeup == process.due_at
    assert process.kind is TaskKind.USER
