"""Who may claim, release, complete and reassign a task; bad input changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from ged.adapters.orm import AuditEvent, Task
from ged.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ged.domain.model import AuditAction
from ged.services.tasks import TaskState
from tests.integration.circuits.conftest import Office, footprint


@pytest.fixture
def pool_task(office: Office) -> tuple[int, int]:
    """(mail id, task id) of a processing task open in the SAU pool."""
    mail_id = office.register()
    return mail_id, office.dispatch(mail_id).id


def test_an_agent_of_another_unit_can_neither_claim_nor_complete_nor_see(
    office: Office, pool_task: tuple[int, int]
) -> None:
    _, task_id = pool_task
    tasks = office.container.tasks
    before = footprint(office.container)

    with pytest.raises(NotFound):
        tasks.claim(office.stranger, task_id)
    with pytest.raises(NotFound):
        tasks.complete(office.stranger, task_id, "close")
    with pytest.raises(NotFound):
        tasks.get(office.stranger, task_id)

    assert footprint(office.container) == before


def test_a_claimed_task_is_out_of_reach_of_colleagues_until_released(
    office: Office, pool_task: tuple[int, int]
) -> None:
    _, task_id = pool_task
    tasks = office.container.tasks
    tasks.claim(office.agent, task_id)
    before = footprint(office.container)

    with pytest.raises(Conflict, match="déjà prise par Personne agent"):
        tasks.claim(office.colleague, task_id)
    with pytest.raises(PermissionDenied):
        tasks.complete(office.colleague, task_id, "close")
    with pytest.raises(PermissionDenied):
        tasks.release(office.colleague, task_id)
    assert footprint(office.container) == before
    assert office.container.tasks.unit_pool(office.colleague).total == 0

    tasks.release(office.agent, task_id)

    assert tasks.get(office.colleague, task_id).can_claim
    assert tasks.unit_pool(office.colleague).total == 1
    tasks.complete(office.colleague, task_id, "close")


def test_a_task_given_by_name_cannot_be_released_to_a_pool(office: Office) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)

    with pytest.raises(ValidationError, match="réattribuer"):
        office.container.tasks.release(office.director, dispatch.id)


def test_completing_twice_is_refused_the_second_time_and_says_by_whom(
    office: Office, pool_task: tuple[int, int]
) -> None:
    _, task_id = pool_task
    tasks = office.container.tasks
    tasks.complete(office.agent, task_id, "close")
    before = footprint(office.container)

    with pytest.raises(Conflict, match="déjà été traitée par Personne agent"):
        tasks.complete(office.agent, task_id, "close")
    with pytest.raises(Conflict):
        tasks.claim(office.colleague, task_id)

    assert footprint(office.container) == before


def test_a_stale_form_is_refused_and_changes_nothing(
    office: Office, pool_task: tuple[int, int]
) -> None:
    _, task_id = pool_task
    tasks = office.container.tasks
    opened = tasks.get(office.agent, task_id).task.version
    tasks.claim(office.colleague, task_id)
    tasks.release(office.colleague, task_id)
    before = footprint(office.container)

    with pytest.raises(Conflict, match="a changé depuis que vous l'avez ouverte"):
        tasks.complete(office.agent, task_id, "close", expected_version=opened)

    assert footprint(office.container) == before
    current = tasks.get(office.agent, task_id).task.version
    tasks.complete(office.agent, task_id, "close", expected_version=current)


def test_unknown_and_cancelled_tasks_are_refused(office: Office) -> None:
    tasks = office.container.tasks
    with pytest.raises(NotFound, match="Tâche introuvable"):
        tasks.complete(office.agent, 987654, "close")
    mail_id = office.register()
    process = office.dispatch(mail_id)
    with office.container.writer() as uow:
        row = uow.session.get_one(Task, process.id)
        row.state = TaskState.CANCELLED.value
        uow.commit()

    with pytest.raises(Conflict, match="annulée"):
        tasks.complete(office.agent, process.id, "close")


@pytest.mark.parametrize(
    ("outcome", "data", "message"),
    [
        ("", {}, "Choisissez une suite"),
        ("approve", {}, "n'est pas une suite possible"),
        ("consult", {}, "demande : consulted_units"),
        ("close", {"addressed_unit": "AUT"}, "ne fait pas partie du formulaire"),
        ("close", {"mail_id": 1}, "fixé par ged"),
        ("close", {"process_outcome": "answer"}, "fixé par ged"),
        ("consult", {"consulted_units": ["NOPE"]}, "« NOPE »"),
    ],
)
def test_bad_outcomes_and_values_are_refused_with_a_french_message(
    office: Office, pool_task: tuple[int, int], outcome: str, data: dict[str, object], message: str
) -> None:
    _, task_id = pool_task
    before = footprint(office.container)

    with pytest.raises(ValidationError, match=message):
        office.container.tasks.complete(office.agent, task_id, outcome, data)

    assert footprint(office.container) == before


@pytest.mark.parametrize("deadline", ["demain", "2020-01-01", "2026-13-45", True, 400])
def test_a_deadline_the_director_gives_must_make_sense(office: Office, deadline: object) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="délai"):
        office.container.tasks.complete(
            office.director,
            dispatch.id,
            "dispatch",
            {"addressed_unit": "SAU", "processing_deadline": deadline},
        )

    assert footprint(office.container) == before


def test_dispatching_to_an_unknown_unit_is_refused(office: Office) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    before = footprint(office.container)

    with pytest.raises(ValidationError, match="L'entité « XYZ »"):
        office.container.tasks.complete(
            office.director, dispatch.id, "dispatch", {"addressed_unit": "XYZ"}
        )

    assert footprint(office.container) == before


def test_an_auditor_sees_every_task_but_acts_on_none(
    office: Office, pool_task: tuple[int, int]
) -> None:
    _, task_id = pool_task
    tasks = office.container.tasks
    assert tasks.get(office.auditor, task_id).can_complete is False

    with pytest.raises(PermissionDenied):
        tasks.complete(office.auditor, task_id, "close")
    with pytest.raises(PermissionDenied):
        tasks.claim(office.auditor, task_id)


def test_a_delegate_completes_the_tasks_of_the_absent_person(office: Office) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    tasks = office.container.tasks
    tasks.complete(office.agent, process.id, "answer")
    visa = office.task(office.chef, "visa", mail_id)
    with pytest.raises(NotFound):
        tasks.complete(office.agent, visa.id, "approve")
    today = tasks.today()
    delegation = office.container.delegations.create(
        office.chef, office.chef.user_id or 0, office.agent.user_id or 0, today, today, "Congé"
    )

    assert [t.id for t in tasks.delegated_to_me(office.agent).rows] == [visa.id]
    assert tasks.counts(office.agent).delegated == 1
    result = tasks.complete(office.agent, visa.id, "approve")

    assert result.finished
    with office.container.reader() as uow:
        row = uow.session.get_one(Task, visa.id)
        assert (row.assignee_id, row.completed_by_id) == (office.chef.user_id, office.agent.user_id)
    views = office.container.delegations.for_user(office.agent)
    assert [(v.id, v.active) for v in views] == [(delegation, True)]


def test_an_ended_delegation_gives_nothing_any_more(office: Office) -> None:
    mail_id = office.register()
    tasks = office.container.tasks
    tasks.complete(office.agent, office.dispatch(mail_id).id, "answer")
    visa = office.task(office.chef, "visa", mail_id)
    delegations = office.container.delegations
    today = tasks.today()
    delegation = delegations.create(
        office.chef, office.chef.user_id or 0, office.agent.user_id or 0, today, today
    )

    delegations.end(office.chef, delegation)

    assert tasks.delegated_to_me(office.agent).total == 0
    with pytest.raises(NotFound):
        tasks.complete(office.agent, visa.id, "approve")
    with pytest.raises(Conflict):
        delegations.end(office.chef, delegation)
    with office.container.reader() as uow:
        actions = list(
            uow.session.execute(
                select(AuditEvent.action).where(AuditEvent.action.like("delegation.%"))
            ).scalars()
        )
    assert actions == [AuditAction.DELEGATION_CREATED, AuditAction.DELEGATION_ENDED]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [("agent", True), ("chef", True), ("colleague", False), ("admin", True)],
)
def test_only_the_person_their_manager_or_an_admin_delegates_their_tasks(
    office: Office, who: str, allowed: bool
) -> None:
    today = office.container.tasks.today()
    actor = getattr(office, who)

    def delegate() -> int:
        return office.container.delegations.create(
            actor, office.agent.user_id or 0, office.legal.user_id or 0, today, today
        )

    if allowed:
        assert delegate() > 0
    else:
        with pytest.raises(PermissionDenied):
            delegate()


def test_a_delegation_must_have_sensible_dates_and_no_overlap(office: Office) -> None:
    delegations = office.container.delegations
    today = office.container.tasks.today()
    agent, legal = office.agent.user_id or 0, office.legal.user_id or 0
    with pytest.raises(ValidationError, match="précède"):
        delegations.create(office.agent, agent, legal, today, today - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="soi-même"):
        delegations.create(office.agent, agent, agent, today, today)
    with pytest.raises(ValidationError, match="déjà terminée"):
        delegations.create(
            office.agent, agent, legal, today - dt.timedelta(days=9), today - dt.timedelta(days=2)
        )
    delegations.create(office.agent, agent, legal, today, today + dt.timedelta(days=5))
    with pytest.raises(ValidationError, match="couvre déjà"):
        delegations.create(
            office.agent,
            agent,
            office.colleague.user_id or 0,
            today + dt.timedelta(days=3),
            today + dt.timedelta(days=9),
        )


def test_the_unit_manager_reassigns_within_the_unit_and_no_one_else_may(
    office: Office, pool_task: tuple[int, int]
) -> None:
    _, task_id = pool_task
    tasks = office.container.tasks
    before = footprint(office.container)
    with pytest.raises(PermissionDenied):
        tasks.reassign(office.agent, task_id, office.colleague.user_id or 0)
    with pytest.raises(PermissionDenied, match="vos entités"):
        tasks.reassign(office.chef, task_id, office.legal.user_id or 0)
    with pytest.raises(ValidationError):
        tasks.reassign(office.chef, task_id, office.auditor.user_id or 0)
    assert footprint(office.container) == before

    tasks.reassign(office.chef, task_id, office.colleague.user_id or 0, "Dossier connu")

    [mine] = tasks.my_tasks(office.colleague).rows
    assert mine.id == task_id
    assert mine.state is TaskState.CLAIMED
    tasks.reassign(office.admin, task_id, office.legal.user_id or 0)
    assert tasks.my_tasks(office.legal).rows[0].id == task_id
    tasks.complete(office.legal, task_id, "close")
