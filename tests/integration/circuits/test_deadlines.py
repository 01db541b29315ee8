"""Deadlines in working days, timers woken by the sweep, reminders, escalation, e-mails."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, Task
from ged.bootstrap import Container
from ged.domain.errors import NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction
from ged.services.circuits import working_calendar
from ged.services.tasks import TaskKind, TaskState, TaskSummary
from tests.integration.circuits.conftest import Office, SmtpServer, emails, make_office


def late(office: Office, days: int = 2) -> tuple[int, TaskSummary]:
    mail_id = office.register()
    process = office.dispatch(mail_id, days=days)
    assert process.due_at is not None
    return mail_id, process


def escalations(office: Office) -> list[Task]:
    with office.container.reader() as uow:
        return list(
            uow.session.execute(
                select(Task).where(Task.kind == TaskKind.ESCALATION.value).order_by(Task.id)
            ).scalars()
        )


def test_nothing_happens_before_the_deadline(office: Office) -> None:
    _, process = late(office)
    assert process.due_at is not None

    report = office.container.tasks.sweep(process.due_at - dt.timedelta(minutes=1))

    assert (report.woken, report.escalated) == (0, 0)
    assert escalations(office) == []


def test_at_the_deadline_the_manager_gets_an_escalation_task_and_an_email(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    _mail_id, process = late(office)
    assert process.due_at is not None
    after = process.due_at + dt.timedelta(hours=1)

    report = mailing.tasks.sweep(after)

    assert report.woken == 1  # the circuit's timer threw `processing_overdue`
    [escalation] = escalations(office)
    assert escalation.escalated_task_id == process.id
    assert escalation.assignee_id == office.chef.user_id
    assert escalation.state == TaskState.CLAIMED
    [held] = mailing.tasks.my_tasks(office.chef).rows
    assert held.kind is TaskKind.ESCALATION
    assert held.name.startswith("Délai dépassé")
    [overdue] = mailing.tasks.overdue(office.chef, now=after).rows
    assert overdue.id == process.id
    assert overdue.overdue
    assert overdue.escalated
    [message] = smtp.mailbox.to("chef@agence.test")
    assert "Délai dépassé" in message
    assert "Traiter le courrier" in message
    assert all(e.sent_at is not None for e in emails(mailing))


def test_the_sweep_escalates_a_late_task_once(office: Office) -> None:
    _, process = late(office)
    assert process.due_at is not None
    tasks = office.container.tasks
    later = process.due_at + dt.timedelta(days=1)

    # Straight from the task table first, then the circuit's own timer: one escalation.
    assert tasks.escalate_overdue(later) == 1
    assert tasks.wake_due(later) == 1
    assert tasks.sweep(later + dt.timedelta(days=1)).escalated == 0

    assert len(escalations(office)) == 1
    with office.container.reader() as uow:
        escalated = uow.session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.TASK_ESCALATED)
        ).scalars()
        assert [e.details["task"] for e in escalated] == [process.id]


def test_completing_the_late_task_settles_its_escalation(office: Office) -> None:
    _mail_id, process = late(office)
    assert process.due_at is not None
    tasks = office.container.tasks
    tasks.sweep(process.due_at + dt.timedelta(hours=1))

    tasks.complete(office.agent, process.id, "answer")

    [escalation] = escalations(office)
    assert escalation.state == TaskState.CANCELLED
    assert [t.bpmn_id for t in tasks.my_tasks(office.chef).rows] == ["visa"]


def test_the_manager_acknowledges_an_escalation(office: Office) -> None:
    _, process = late(office)
    assert process.due_at is not None
    tasks = office.container.tasks
    tasks.sweep(process.due_at + dt.timedelta(hours=1))
    [escalation] = tasks.my_tasks(office.chef).rows
    detail = tasks.get(office.chef, escalation.id)
    assert [o.name for o in detail.outcomes] == ["acknowledge"]
    assert detail.escalated_task_id == process.id

    tasks.reassign(office.chef, process.id, office.colleague.user_id or 0)
    tasks.complete(office.chef, escalation.id, "acknowledge", comment="Relancé.")

    assert [t.id for t in tasks.my_tasks(office.colleague).rows] == [process.id]
    assert tasks.my_tasks(office.chef).total == 0


def previous_working_day(office: Office, day: dt.date) -> dt.date:
    with office.container.reader() as uow:
        calendar = working_calendar(uow.session)
    day -= dt.timedelta(days=1)
    while not calendar.is_working_day(day):
        day -= dt.timedelta(days=1)
    return day


def test_a_reminder_goes_to_the_pool_one_working_day_before_the_deadline(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    _, process = late(office, days=4)
    assert process.due_at is not None
    tasks = mailing.tasks
    due_day = tasks.due_date(process.due_at)
    day_before = previous_working_day(office, due_day)
    two_before = previous_working_day(office, day_before)

    def morning(day: dt.date) -> dt.datetime:
        return tasks.deadline_at(day - dt.timedelta(days=1)) + dt.timedelta(hours=9)

    assert tasks.sweep(morning(two_before)).reminded == 0
    assert tasks.sweep(morning(day_before)).reminded == 1
    assert tasks.sweep(morning(day_before) + dt.timedelta(hours=2)).reminded == 0

    for address in ("agent@agence.test", "collegue@agence.test"):
        [message] = smtp.mailbox.to(address)
        assert "Rappel" in message
        assert f"{due_day:%d/%m/%Y}" in message
    assert smtp.mailbox.to("juriste@agence.test") == []


def test_a_claimed_task_reminds_only_its_holder(mailing: Container, smtp: SmtpServer) -> None:
    office = make_office(mailing)
    _, process = late(office, days=1)
    assert process.due_at is not None
    mailing.tasks.claim(office.colleague, process.id)

    mailing.tasks.sweep(process.due_at - dt.timedelta(hours=3))

    assert len(smtp.mailbox.to("collegue@agence.test")) == 1
    assert smtp.mailbox.to("agent@agence.test") == []


def test_deadlines_skip_weekends_and_the_holidays_an_admin_adds(office: Office) -> None:
    tasks = office.container.tasks
    calendar = office.container.calendar
    with office.container.reader() as uow:
        plain = working_calendar(uow.session).add_working_days(tasks.today(), 1)
    calendar.add(office.admin, plain, "Fête locale")

    _, process = late(office, days=1)

    assert process.due_at is not None
    due_day = tasks.due_date(process.due_at)
    assert due_day > plain
    assert due_day.weekday() < 5
    assert [h.name for h in calendar.holidays(plain.year) if h.day == plain] == ["Fête locale"]
    calendar.remove(office.admin, plain)
    with office.container.reader() as uow:
        actions = list(
            uow.session.execute(
                select(AuditEvent.action).where(AuditEvent.object_type == "holiday")
            ).scalars()
        )
    assert actions == [AuditAction.HOLIDAY_ADDED, AuditAction.HOLIDAY_REMOVED]


def test_only_admins_edit_the_calendar(office: Office) -> None:
    day = dt.date(2027, 4, 1)
    with pytest.raises(PermissionDenied):
        office.container.calendar.add(office.chef, day, "Jour")
    with pytest.raises(ValidationError):
        office.container.calendar.add(office.admin, day, "  ")
    with pytest.raises(NotFound):
        office.container.calendar.remove(office.admin, day)


def test_overdue_lists_are_for_managers_of_the_unit_and_above(office: Office) -> None:
    _, process = late(office)
    assert process.due_at is not None
    tasks = office.container.tasks
    after = process.due_at + dt.timedelta(minutes=5)

    assert [t.id for t in tasks.overdue(office.director, now=after).rows] == [process.id]
    assert [t.id for t in tasks.overdue(office.admin, now=after).rows] == [process.id]
    [by_unit] = tasks.overdue_by_unit(office.chef, now=after)
    assert (by_unit.unit_code, by_unit.count) == ("SAU", 1)
    assert tasks.counts(office.chef, now=after).overdue_managed == 1
    assert tasks.overdue(office.chef, now=process.due_at - dt.timedelta(minutes=5)).total == 0
    with pytest.raises(PermissionDenied):
        tasks.overdue(office.agent, now=after)
    with pytest.raises(PermissionDenied):
        tasks.overdue(office.chef, unit_id=office.sj, now=after)
