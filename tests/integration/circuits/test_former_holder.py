"""The person a manager takes a task from is told: in the bell, and by e-mail in their language.

Whether the task goes to someone else (`reassign`) or back to a unit's pool (`reassign_to_unit`),
the e-mail leaves through the outbox after the commit, to a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import pytest

from ged.bootstrap import Container
from ged.domain.errors import ValidationError
from ged.services.notifications import NotificationKind, TaskNotice
from tests.integration.circuits.conftest import Office, SmtpServer, emails, footprint, make_office
from tests.integration.notifications.conftest import chrono_of, notifications_of


def held(office: Office, subject: str = "Demande de certificat", **kwargs: bool) -> int:
    """A processing task the SAU agent has taken."""
    task_id = office.dispatch(office.register(subject, **kwargs)).id
    office.container.tasks.claim(office.agent, task_id)
    return task_id


def mail_of(office: Office, task_id: int) -> int:
    mail_id = office.container.tasks.get(office.chef, task_id).task.mail_id
    assert mail_id is not None
    return mail_id


def kinds(office: Office, user_id: int | None) -> list[str]:
    return [n.kind for n in notifications_of(office.container, user_id)]


def test_the_holder_is_told_in_arabic_whom_his_task_was_given_to(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    mailing.accounts.set_locale(office.agent, "ar")
    task_id = held(office, "Plainte contre un élu", confidential=True)
    mail_id = mail_of(office, task_id)
    seen = len(notifications_of(mailing, office.agent.user_id))

    mailing.tasks.reassign(office.chef, task_id, office.colleague.user_id or 0, "Congé")

    [note] = notifications_of(mailing, office.agent.user_id)[seen:]
    assert note.kind == NotificationKind.WITHDRAWN
    notice = TaskNotice.loads(note.text)
    assert notice is not None
    assert (notice.task, notice.chrono) == ("Traiter le courrier", chrono_of(office, mail_id))
    assert (notice.by, notice.to, notice.unit_id) == ("Personne chef", "Personne collegue", None)
    assert note.link == f"/mail/{mail_id}"
    [given] = notifications_of(mailing, office.colleague.user_id)[-1:]
    assert given.kind == NotificationKind.ASSIGNMENT
    given_notice = TaskNotice.loads(given.text)
    assert given_notice is not None
    assert given_notice.by == "Personne chef"  # the new holder is told who gave it

    [told] = smtp.mailbox.to("agent@agence.test")
    assert told.startswith("[ged] سحب مهمة: معالجة البريد — A-")
    assert "سحب Personne chef منكم المهمة «معالجة البريد» وأسندها إلى Personne collegue." in told
    assert "لم يعد عليكم معالجتها." in told
    assert "Plainte" not in told  # a confidential subject never leaves by e-mail
    for french in ("Bonjour", "Tâche", "retiré", "Traiter"):
        assert french not in told
    [given_mail] = smtp.mailbox.to("collegue@agence.test")
    assert "Personne chef vous a confié la tâche « Traiter le courrier »." in given_mail


def test_the_holder_is_told_in_french_which_pool_his_task_went_back_to(
    mailing: Container, smtp: SmtpServer
) -> None:
    office = make_office(mailing)
    task_id = held(office)

    mailing.tasks.reassign_to_unit(office.chef, task_id, office.sau)

    [told] = smtp.mailbox.to("agent@agence.test")
    assert told.startswith("[ged] Tâche retirée : Traiter le courrier — A-")
    assert told.split("\n", 1)[1].startswith("Bonjour Personne agent,")
    assert (
        "Personne chef vous a retiré la tâche « Traiter le courrier » et l'a remise dans le "
        "panier de Autorisations." in told
    )
    assert "Vous n'avez plus à la traiter." in told
    # Once: not also as one of the pool's people.
    assert kinds(office, office.agent.user_id)[-1:] == [NotificationKind.WITHDRAWN]
    assert NotificationKind.POOL not in kinds(office, office.agent.user_id)
    [pooled] = smtp.mailbox.to("collegue@agence.test")
    assert "Personne chef a remis la tâche « Traiter le courrier »" in pooled


def test_no_one_is_told_of_a_task_taken_from_nobody_from_the_manager_or_given_back_to_him(
    office: Office,
) -> None:
    tasks = office.container.tasks
    in_pool = office.dispatch(office.register()).id
    tasks.reassign(office.chef, in_pool, office.colleague.user_id or 0)  # held by nobody

    own = office.dispatch(office.register()).id
    tasks.claim(office.chef, own)
    tasks.reassign(office.chef, own, office.agent.user_id or 0)  # held by the manager himself

    same = held(office)
    tasks.reassign(office.chef, same, office.agent.user_id or 0)  # to the one who holds it

    for person in (office.agent, office.colleague, office.chef):
        assert NotificationKind.WITHDRAWN not in kinds(office, person.user_id), person.username
    assert not [e for e in emails(office.container) if "Tâche retirée" in e.subject]


def test_a_refused_or_failed_reassignment_tells_no_one(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks = office.container.tasks
    task_id = held(office)
    before = footprint(office.container)
    seen = len(notifications_of(office.container, office.agent.user_id))

    with pytest.raises(ValidationError):
        tasks.reassign(office.chef, task_id, office.auditor.user_id or 0)

    def broken(*args: object) -> None:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(tasks._outbox, "add", broken)
    with pytest.raises(RuntimeError):
        tasks.reassign(office.chef, task_id, office.colleague.user_id or 0)

    assert footprint(office.container) == before
    assert len(notifications_of(office.container, office.agent.user_id)) == seen
    assert notifications_of(office.container, office.colleague.user_id) == []
    assert [t.id for t in tasks.my_tasks(office.agent).rows] == [task_id]
