"""The daily digest: overdue and due-soon tasks, once per person and day, through real SMTP."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ged.adapters.orm import AuditEvent
from ged.bootstrap import Container
from ged.config import NotificationSettings
from ged.domain.model import AuditAction
from ged.services.notifications import Notifications
from tests.integration.circuits.conftest import Office, SmtpServer, make_office
from tests.integration.dashboards.conftest import at, end_of, set_task

MONDAY = dt.date(2026, 12, 14)
MORNING = at(MONDAY, 8)


def agent_tasks(office: Office) -> dict[str, tuple[int, str]]:
    """Three tasks the agent holds: overdue, due tomorrow, due next week (id, chrono)."""
    found = {}
    for name, due in (
        ("overdue", dt.date(2026, 12, 10)),
        ("soon", dt.date(2026, 12, 15)),
        ("later", dt.date(2026, 12, 22)),
    ):
        mail_id = office.register(f"Demande {name}")
        process = office.dispatch(mail_id)
        office.container.tasks.claim(office.agent, process.id)
        set_task(office.container, process.id, due_at=end_of(due))
        found[name] = (process.id, process.mail_chrono or "")
    return found


def test_the_digest_lists_overdue_and_due_soon_tasks(mailing: Container, smtp: SmtpServer) -> None:
    office = make_office(mailing)
    tasks = agent_tasks(office)
    confidential = office.register("Plainte contre un élu", confidential=True)
    secret = office.dispatch(confidential)
    mailing.tasks.claim(office.agent, secret.id)
    set_task(mailing, secret.id, due_at=end_of(dt.date(2026, 12, 9)))

    report = mailing.notifications.send_digests(MORNING)

    [message] = smtp.mailbox.to("agent@agence.test")
    assert "Vos tâches du 14/12/2026 : 2 en retard, 1 à échéance proche" in message
    overdue_part, soon_part = message.split("À échéance dans les 2 prochains jours ouvrés")
    assert tasks["overdue"][1] in overdue_part
    assert "échéance le 10/12/2026" in overdue_part
    assert tasks["soon"][1] in soon_part
    assert tasks["later"][1] not in message
    assert "Plainte" not in message
    assert "préférences" in message
    assert report.sent >= 1
    # The manager holds nothing due: no e-mail for an empty digest.
    assert smtp.mailbox.to("chef@agence.test") == []


def test_the_digest_goes_out_once_a_day_from_the_configured_hour(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    agent_tasks(office)
    digests = mailing.notifications

    assert digests.send_digests(at(MONDAY, 6)).skipped
    assert smtp.mailbox.to("agent@agence.test") == []

    first = digests.send_digests(MORNING)
    again = digests.send_digests(MORNING + dt.timedelta(hours=3))
    assert first.sent >= 1
    assert again.sent == again.empty == 0
    assert len(smtp.mailbox.to("agent@agence.test")) == 1

    digests.send_digests(at(MONDAY + dt.timedelta(days=1), 9))
    assert len(smtp.mailbox.to("agent@agence.test")) == 2


def test_a_person_who_switched_the_digest_off_gets_none(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    agent_tasks(office)
    digests = mailing.notifications

    digests.set_digest(office.agent, False)
    digests.send_digests(MORNING)

    assert smtp.mailbox.to("agent@agence.test") == []
    assert not digests.preferences(office.agent).digest_enabled
    with mailing.reader() as uow:
        updates = uow.session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.USER_UPDATED.value)
        ).scalars()
        [change] = [e for e in updates if "digest" in e.details]
    assert change.details == {"digest": False}
    assert change.actor_id == office.agent.user_id

    digests.set_digest(office.agent, True)
    digests.send_digests(MORNING + dt.timedelta(hours=1))
    assert len(smtp.mailbox.to("agent@agence.test")) == 1


def test_digests_switched_off_for_the_agency_send_nothing(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    agent_tasks(office)
    switched_off = Notifications(
        mailing.writer,
        mailing.reader,
        mailing.outbox,
        NotificationSettings(digest=False),
        mailing.settings.timezone,
    )

    assert switched_off.send_digests(MORNING).skipped
    assert not switched_off.preferences(office.agent).digest_available
    assert smtp.mailbox.to("agent@agence.test") == []


def test_the_digest_job_is_registered(office: Office) -> None:
    assert "send_digests" in office.container.jobs.names()
