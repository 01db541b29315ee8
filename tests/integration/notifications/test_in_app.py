"""In-app notifications: written with the task events that e-mail people, read by their owner."""

from __future__ import annotations

import datetime as dt

import pytest

from ged.domain.errors import NotFound, PermissionDenied
from ged.services.audit import Actor
from ged.services.notifications import NotificationKind, TaskNotice, notify
from tests.integration.circuits.conftest import Office
from tests.integration.notifications.conftest import chrono_of, notifications_of


def test_a_task_given_by_name_notifies_its_holder(office: Office) -> None:
    mail_id = office.register("Demande de certificat")

    [note] = notifications_of(office.container, office.director.user_id)
    assert note.kind == NotificationKind.NEW_TASK
    notice = TaskNotice.loads(note.text)
    assert notice is not None
    assert notice.task == "Dispatcher le courrier"
    assert notice.chrono is not None
    assert notice.chrono.startswith("A-")
    assert note.link == f"/mail/{mail_id}"
    assert note.read_at is None
    # A task in a unit's pool names nobody: nobody is notified.
    office.dispatch(mail_id)
    assert notifications_of(office.container, office.agent.user_id) == []


def test_a_confidential_subject_never_reaches_a_notification(office: Office) -> None:
    office.register("Plainte contre un élu", confidential=True)

    [note] = notifications_of(office.container, office.director.user_id)
    assert "Plainte" not in note.text


def test_reassignment_escalation_and_reminder_notify_the_people_they_email(
    office: Office,
) -> None:
    tasks = office.container.tasks
    mail_id = office.register()
    process = office.dispatch(mail_id, days=2)
    assert process.due_at is not None

    # The reminder goes to the pool, one working day before the deadline.
    tasks.send_reminders(process.due_at - dt.timedelta(hours=12))
    for member in (office.agent, office.colleague, office.chef):
        kinds = [n.kind for n in notifications_of(office.container, member.user_id)]
        assert NotificationKind.REMINDER in kinds, member.username
    assert notifications_of(office.container, office.legal.user_id) == []

    tasks.escalate_overdue(process.due_at + dt.timedelta(hours=1))
    escalation = notifications_of(office.container, office.chef.user_id)[-1]
    assert escalation.kind == NotificationKind.ESCALATION
    assert TaskNotice.loads(escalation.text) == TaskNotice(
        "Traiter le courrier", chrono_of(office, mail_id), process.due_at
    )

    tasks.reassign(office.chef, process.id, office.colleague.user_id or 0)
    assigned = notifications_of(office.container, office.colleague.user_id)[-1]
    assert assigned.kind == NotificationKind.ASSIGNMENT
    assert assigned.link == f"/mail/{mail_id}"


def test_people_read_and_mark_only_their_own_notifications(office: Office) -> None:
    notifications = office.container.notifications
    office.register("Premier")
    office.register("Second")
    director = office.director
    [first, second] = notifications_of(office.container, director.user_id)

    assert notifications.unread_count(director) == 2
    assert notifications.unread_count(office.agent) == 0
    with pytest.raises(NotFound):
        notifications.mark_read(office.agent, first.id)
    assert notifications.unread_count(director) == 2

    notifications.mark_read(director, first.id)
    page = notifications.page(director)
    assert page.unread == 1
    assert [(n.id, n.unread) for n in page.rows] == [(second.id, True), (first.id, False)]
    assert [n.id for n in notifications.page(director, unread_only=True).rows] == [second.id]

    assert notifications.mark_all_read(director) == 1
    assert notifications.unread_count(director) == 0
    assert notifications.page(office.agent).rows == ()
    with pytest.raises(PermissionDenied):
        notifications.page(Actor.system())


def test_a_notification_links_only_inside_ged(office: Office) -> None:
    container = office.container
    links = ["/mail/7", "//evil.example/x", "/\\evil.example", "https://evil.example", ""]
    with container.writer() as uow:
        for link in links:
            notice = TaskNotice("Essai")
            notify(uow.session, [office.agent.user_id], NotificationKind.NEW_TASK, notice, link)
        uow.commit()

    stored = [n.link for n in notifications_of(container, office.agent.user_id)]
    assert stored == ["/mail/7", "", "", "", ""]
