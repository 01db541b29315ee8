"""A manager puts a task back in a unit's pool: held by nobody, any member of the unit takes it."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, Task
from ged.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction, Role
from ged.services.admin import UnitData, UserData
from ged.services.notifications import NotificationKind, TaskNotice
from ged.services.tasks import TaskKind, TaskState
from tests.builders import SYSTEM
from tests.integration.circuits.conftest import PASSWORD, Office, emails, footprint
from tests.integration.notifications.conftest import chrono_of, notifications_of


@pytest.fixture
def held_task(office: Office) -> tuple[int, int]:
    """(mail id, task id) of a processing task the SAU agent has taken."""
    mail_id = office.register()
    task_id = office.dispatch(mail_id).id
    office.container.tasks.claim(office.agent, task_id)
    return mail_id, task_id


def row_of(office: Office, task_id: int) -> Task:
    with office.container.reader() as uow:
        row = uow.session.get_one(Task, task_id)
        uow.session.expunge(row)
        return row


def last_event(office: Office) -> AuditEvent:
    with office.container.reader() as uow:
        return uow.session.execute(
            select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1)
        ).scalar_one()


def test_a_task_put_back_in_its_units_pool_leaves_its_holder_for_every_colleague(
    office: Office, held_task: tuple[int, int]
) -> None:
    mail_id, task_id = held_task
    tasks = office.container.tasks
    version = tasks.get(office.chef, task_id).task.version
    assert tasks.unit_pool(office.colleague).total == 0

    tasks.reassign_to_unit(
        office.chef, task_id, office.sau, "Agent absent", expected_version=version
    )

    row = row_of(office, task_id)
    assert (row.state, row.assignee_id) == (TaskState.OPEN, None)
    assert (row.unit_id, row.candidate_unit_id, row.candidate_role) == (
        office.sau,
        office.sau,
        None,
    )
    assert row.lock_version == version + 1
    assert tasks.my_tasks(office.agent).total == 0
    assert tasks.counts(office.agent).mine == 0
    for member in (office.agent, office.colleague, office.chef):
        assert [t.id for t in tasks.unit_pool(member).rows] == [task_id], member.username
        assert tasks.counts(member).pool == 1
    assert tasks.unit_pool(office.legal).total == 0

    event = last_event(office)
    assert event.action == AuditAction.TASK_REASSIGNED
    assert (event.actor_id, event.object_type, event.object_id) == (
        office.chef.user_id,
        "mail",
        str(mail_id),
    )
    assert event.details == {
        "task": task_id,
        "name": "Traiter le courrier",
        "from": office.agent.user_id,
        "from_unit": office.sau,
        "to_unit": office.sau,
        "comment": "Agent absent",
    }

    detail = tasks.get(office.colleague, task_id)
    assert detail.can_claim
    tasks.claim(office.colleague, task_id, detail.task.version)
    assert [t.id for t in tasks.my_tasks(office.colleague).rows] == [task_id]
    assert tasks.unit_pool(office.agent).total == 0
    tasks.complete(office.colleague, task_id, "close")


def test_the_pool_is_told_who_put_the_task_there_and_the_manager_is_not(
    office: Office, held_task: tuple[int, int]
) -> None:
    mail_id, task_id = held_task
    tasks = office.container.tasks
    tasks.release(office.agent, task_id)
    tasks.claim(office.chef, task_id)  # held by the manager himself: no one to take it from
    office.container.accounts.set_locale(office.colleague, "ar")
    before = {
        person: len(notifications_of(office.container, person.user_id))
        for person in (office.agent, office.colleague, office.chef, office.legal)
    }
    sent_before = len(emails(office.container))

    tasks.reassign_to_unit(office.chef, task_id, office.sau)

    due_at = row_of(office, task_id).due_at
    for member in (office.agent, office.colleague):
        [note] = notifications_of(office.container, member.user_id)[before[member] :]
        assert note.kind == NotificationKind.POOL
        assert TaskNotice.loads(note.text) == TaskNotice(
            "Traiter le courrier", chrono_of(office, mail_id), due_at, by="Personne chef"
        )
        assert note.link == f"/mail/{mail_id}"
    for outsider in (office.chef, office.legal):
        assert len(notifications_of(office.container, outsider.user_id)) == before[outsider]

    sent = {e.to_address: e for e in emails(office.container)[sent_before:]}
    assert set(sent) == {"agent@agence.test", "collegue@agence.test"}
    french = sent["agent@agence.test"]
    assert french.subject.startswith("[ged] Tâche à prendre : Traiter le courrier — A-")
    assert (
        "Personne chef a remis la tâche « Traiter le courrier » dans le panier de votre entité."
        in french.body
    )
    assert "L'un d'entre vous peut la prendre." in french.body
    arabic = sent["collegue@agence.test"]
    assert arabic.subject.startswith("[ged] مهمة في انتظار التكفل: معالجة البريد — A-")
    assert "أرجع Personne chef المهمة «معالجة البريد» إلى سلة مصلحتكم." in arabic.body
    for french_word in ("Tâche", "panier", "Bonjour", "Retrouvez", "remis"):
        assert french_word not in arabic.subject + arabic.body


def test_the_former_holder_is_told_once_that_the_task_went_to_a_pool_named_in_his_language(
    office: Office, held_task: tuple[int, int]
) -> None:
    mail_id, task_id = held_task
    office.container.admin.update_unit(
        SYSTEM,
        office.sj,
        UnitData("SJ", "Juridique", name_ar="الشؤون القانونية", parent_id=office.dg),
    )
    office.container.accounts.set_locale(office.agent, "ar")
    seen = len(notifications_of(office.container, office.agent.user_id))
    sent_before = len(emails(office.container))

    office.container.tasks.reassign_to_unit(office.director, task_id, office.sj, "Hors sujet")

    [note] = notifications_of(office.container, office.agent.user_id)[seen:]
    assert note.kind == NotificationKind.WITHDRAWN
    assert TaskNotice.loads(note.text) == TaskNotice(
        "Traiter le courrier",
        chrono_of(office, mail_id),
        row_of(office, task_id).due_at,
        by="Personne directeur",
        unit_id=office.sj,
        unit="Juridique",
    )
    sent = {e.to_address: e for e in emails(office.container)[sent_before:]}
    assert set(sent) == {"agent@agence.test", "juriste@agence.test"}
    told = sent["agent@agence.test"]
    assert told.subject.startswith("[ged] سحب مهمة: معالجة البريد — A-")
    assert (
        "سحب Personne directeur منكم المهمة «معالجة البريد» وأرجعها إلى سلة الشؤون القانونية."
        in told.body
    )
    assert "لم يعد عليكم معالجتها." in told.body
    assert "Juridique" not in told.body
    assert "Personne juriste a remis" not in sent["juriste@agence.test"].body
    assert "Personne directeur a remis" in sent["juriste@agence.test"].body


def test_a_task_held_by_nobody_or_by_the_manager_himself_tells_no_former_holder(
    office: Office, held_task: tuple[int, int]
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    tasks.release(office.agent, task_id)

    tasks.reassign_to_unit(office.director, task_id, office.dg)
    tasks.claim(office.director, task_id)
    tasks.reassign_to_unit(office.director, task_id, office.other)

    for person in (office.agent, office.director, office.colleague):
        kinds = [n.kind for n in notifications_of(office.container, person.user_id)]
        assert NotificationKind.WITHDRAWN not in kinds, person.username
    assert not [e for e in emails(office.container) if e.subject.startswith("[ged] Tâche retirée")]


def test_only_the_manager_of_the_tasks_unit_or_an_administrator_gives_it_to_a_pool(
    office: Office, held_task: tuple[int, int]
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    before = footprint(office.container)

    with pytest.raises(PermissionDenied):
        tasks.reassign_to_unit(office.agent, task_id, office.sau)
    with pytest.raises(NotFound):
        tasks.reassign_to_unit(office.stranger, task_id, office.other)
    with pytest.raises(PermissionDenied, match="l'une de vos entités"):
        tasks.reassign_to_unit(office.chef, task_id, office.sj)
    assert footprint(office.container) == before
    assert tasks.pool_units(office.agent, task_id) == ()
    assert tasks.pool_units(office.chef, task_id) == (office.sau,)

    # The director manages the whole agency: any of its units.
    assert set(tasks.pool_units(office.director, task_id)) == {
        office.dg,
        office.sau,
        office.sj,
        office.other,
    }
    tasks.reassign_to_unit(office.director, task_id, office.sj)

    assert [t.id for t in tasks.unit_pool(office.legal).rows] == [task_id]
    assert tasks.unit_pool(office.colleague).total == 0
    # The task is the legal unit's now: its former manager has no hold on it any more.
    with pytest.raises(NotFound):
        tasks.reassign_to_unit(office.chef, task_id, office.sau)
    assert office.sj not in tasks.pool_units(office.admin, task_id)

    tasks.reassign_to_unit(office.admin, task_id, office.other)

    assert [t.id for t in tasks.unit_pool(office.stranger).rows] == [task_id]
    tasks.claim(office.stranger, task_id)
    tasks.complete(office.stranger, task_id, "close")


def test_a_unit_that_is_unknown_inactive_or_without_anyone_to_take_it_is_refused(
    office: Office, held_task: tuple[int, int]
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    admin = office.container.admin
    empty = admin.create_unit(SYSTEM, UnitData("VID", "Entité vide", parent_id=office.sau))
    readers = admin.create_unit(SYSTEM, UnitData("INS", "Inspection", parent_id=office.sau))
    admin.create_user(
        SYSTEM,
        UserData("lecteur", "Personne lecteur", Role.AUDITOR.value, readers, email="l@agence.test"),
        PASSWORD,
    )
    closed = admin.create_unit(SYSTEM, UnitData("FER", "Fermée", parent_id=office.sau))
    admin.create_user(
        SYSTEM,
        UserData("ancien", "Personne ancien", Role.AGENT.value, closed, email="a@agence.test"),
        PASSWORD,
    )
    admin.update_unit(SYSTEM, closed, UnitData("FER", "Fermée", parent_id=office.sau, active=False))
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="n'existe pas ou n'est plus active"):
        tasks.reassign_to_unit(office.chef, task_id, 987654)
    with pytest.raises(ValidationError, match="n'existe pas ou n'est plus active"):
        tasks.reassign_to_unit(office.chef, task_id, closed)
    for nobody in (empty, readers):
        with pytest.raises(ValidationError, match="Personne dans cette entité"):
            tasks.reassign_to_unit(office.chef, task_id, nobody)

    assert footprint(office.container) == before
    assert tasks.pool_units(office.chef, task_id) == (office.sau,)


def test_a_stale_form_a_finished_or_cancelled_task_and_a_needless_move_change_nothing(
    office: Office, held_task: tuple[int, int]
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    opened = tasks.get(office.chef, task_id).task.version
    tasks.release(office.agent, task_id)
    before = footprint(office.container)

    with pytest.raises(Conflict, match="a changé depuis que vous l'avez ouverte"):
        tasks.reassign_to_unit(office.chef, task_id, office.sau, expected_version=opened)
    with pytest.raises(ValidationError, match="attend déjà dans le panier"):
        tasks.reassign_to_unit(office.chef, task_id, office.sau)
    assert tasks.pool_units(office.chef, task_id) == ()
    assert footprint(office.container) == before

    tasks.complete(office.colleague, task_id, "close")
    with pytest.raises(Conflict, match="déjà été traitée par Personne collegue"):
        tasks.reassign_to_unit(office.chef, task_id, office.sau)
    assert tasks.pool_units(office.chef, task_id) == ()

    cancelled = office.dispatch(office.register()).id
    with office.container.writer() as uow:
        uow.session.get_one(Task, cancelled).state = TaskState.CANCELLED.value
        uow.commit()
    before = footprint(office.container)
    with pytest.raises(Conflict, match="annulée"):
        tasks.reassign_to_unit(office.chef, cancelled, office.sau)
    assert footprint(office.container) == before


def test_an_escalation_stays_with_a_person(office: Office) -> None:
    tasks = office.container.tasks
    process = office.dispatch(office.register(), days=2)
    assert process.due_at is not None
    tasks.escalate_overdue(process.due_at + dt.timedelta(hours=1))
    [escalation] = [t for t in tasks.my_tasks(office.chef).rows if t.kind is TaskKind.ESCALATION]
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="Confiez-la à une personne"):
        tasks.reassign_to_unit(office.chef, escalation.id, office.sau)

    assert footprint(office.container) == before
    assert tasks.pool_units(office.chef, escalation.id) == ()
    assert tasks.pool_units(office.chef, process.id) == ()  # open in the SAU pool already


def test_a_task_given_by_name_goes_to_a_pool_and_may_then_be_released_to_it(
    office: Office,
) -> None:
    tasks = office.container.tasks
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)

    tasks.reassign_to_unit(office.director, dispatch.id, office.dg)

    assert tasks.my_tasks(office.director).total == 0
    assert [t.id for t in tasks.unit_pool(office.clerk).rows] == [dispatch.id]
    assert tasks.unit_pool(office.auditor).total == 0
    tasks.claim(office.clerk, dispatch.id)
    tasks.release(office.clerk, dispatch.id)  # it has a pool to go back to now
    assert tasks.unit_pool(office.director).total == 1


def test_a_delegate_loses_the_task_when_it_goes_back_to_the_pool(
    office: Office, held_task: tuple[int, int]
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    today = tasks.today()
    office.container.delegations.create(
        office.chef,
        office.agent.user_id or 0,
        office.legal.user_id or 0,
        today,
        today + dt.timedelta(days=5),
    )
    assert [t.id for t in tasks.delegated_to_me(office.legal).rows] == [task_id]

    tasks.reassign_to_unit(office.chef, task_id, office.sau)

    assert tasks.delegated_to_me(office.legal).total == 0
    assert tasks.counts(office.legal).delegated == 0


def test_the_move_is_one_transaction(
    office: Office, held_task: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    before = footprint(office.container)

    def broken(*args: object) -> None:
        raise RuntimeError("outbox down")

    monkeypatch.setattr(tasks._outbox, "add", broken)
    with pytest.raises(RuntimeError):
        tasks.reassign_to_unit(office.chef, task_id, office.sau)

    assert footprint(office.container) == before
    assert notifications_of(office.container, office.colleague.user_id) == []
    assert [t.id for t in tasks.my_tasks(office.agent).rows] == [task_id]


def test_a_late_task_moved_to_another_pool_is_late_in_that_unit(
    office: Office, held_task: tuple[int, int]
) -> None:
    _, task_id = held_task
    tasks = office.container.tasks
    due_at = row_of(office, task_id).due_at
    assert due_at is not None
    late = due_at + dt.timedelta(days=1)
    assert [t.id for t in tasks.overdue(office.chef, now=late).rows] == [task_id]

    tasks.reassign_to_unit(office.director, task_id, office.sj)

    assert tasks.overdue(office.chef, now=late).total == 0
    assert [t.id for t in tasks.overdue(office.director, office.sj, now=late).rows] == [task_id]
    by_unit = {row.unit_id: row.count for row in tasks.overdue_by_unit(office.director, late)}
    assert by_unit.get(office.sj) == 1
    assert office.sau not in by_unit


def test_a_task_of_a_roles_pool_becomes_the_units_alone(office: Office) -> None:
    tasks = office.container.tasks
    task_id = office.dispatch(office.register()).id
    with office.container.writer() as uow:
        row = uow.session.get_one(Task, task_id)
        row.candidate_unit_id = None
        row.candidate_role = Role.REGISTRAR.value
        uow.commit()
    assert [t.id for t in tasks.unit_pool(office.clerk).rows] == [task_id]
    assert tasks.unit_pool(office.colleague).total == 0

    tasks.reassign_to_unit(office.chef, task_id, office.sau)

    assert row_of(office, task_id).candidate_role is None
    assert tasks.unit_pool(office.clerk).total == 0
    assert [t.id for t in tasks.unit_pool(office.colleague).rows] == [task_id]


def test_the_mails_history_names_the_pool_and_the_person_as_they_are_called_today(
    office: Office, held_task: tuple[int, int]
) -> None:
    mail_id, task_id = held_task
    tasks = office.container.tasks
    tasks.reassign_to_unit(office.director, task_id, office.sj)
    tasks.reassign(office.director, task_id, office.legal.user_id or 0)
    office.container.admin.update_unit(
        SYSTEM, office.sj, UnitData("SJ", "Affaires juridiques", parent_id=office.dg)
    )

    timeline = office.container.registry.get(office.director, mail_id).timeline

    moves = [e for e in timeline if e.action == AuditAction.TASK_REASSIGNED]
    assert [(e.to_unit, e.to_person) for e in moves] == [
        ("Affaires juridiques", ""),
        ("", "Personne juriste"),
    ]
    assert all((e.to_unit, e.to_person) == ("", "") for e in timeline if e not in moves)
