"""A mail is visible to whoever holds or held a task on it (never a confidential one)."""

from __future__ import annotations

import pytest

from ged.domain.errors import NotFound
from ged.services.mail import MailFilter
from ged.services.tasks import TaskState
from tests.integration.circuits.conftest import Office


def sees(office: Office, actor_name: str, mail_id: int) -> bool:
    actor = getattr(office, actor_name)
    registry = office.container.registry
    listed = mail_id in {m.id for m in registry.search(actor, MailFilter(per_page=200)).rows}
    try:
        registry.get(actor, mail_id)
        opened = True
    except NotFound:
        opened = False
    assert listed == opened, "the list and the mail page must agree"
    return opened


def test_a_unit_consulted_for_its_opinion_sees_the_mail_it_holds_and_held(office: Office) -> None:
    mail_id = office.register(unit=office.sau)
    tasks = office.container.tasks
    assert not sees(office, "legal", mail_id)

    tasks.complete(
        office.agent, office.dispatch(mail_id).id, "consult", {"consulted_units": ["SJ"]}
    )

    assert sees(office, "legal", mail_id)  # the SJ pool holds an opinion task
    assert not sees(office, "stranger", mail_id)
    opinion = office.task(office.legal, "give_opinion", mail_id)
    tasks.complete(office.legal, opinion.id, "opinion", comment="Favorable.")
    assert sees(office, "legal", mail_id)  # held


def test_dispatching_to_another_unit_opens_the_mail_to_that_unit(office: Office) -> None:
    mail_id = office.register(unit=office.sau)
    assert not sees(office, "stranger", mail_id)

    office.dispatch(mail_id, "AUT")

    assert sees(office, "stranger", mail_id)
    assert office.task(office.stranger, "process", mail_id).state is TaskState.OPEN


def test_a_delegate_sees_the_mail_of_the_task_they_stand_in_for(office: Office) -> None:
    mail_id = office.register(unit=office.sau)
    tasks = office.container.tasks
    tasks.complete(office.agent, office.dispatch(mail_id).id, "answer")
    assert not sees(office, "legal", mail_id)
    today = tasks.today()

    office.container.delegations.create(
        office.chef, office.chef.user_id or 0, office.legal.user_id or 0, today, today
    )

    assert sees(office, "legal", mail_id)


def test_holding_a_task_never_opens_a_confidential_mail(office: Office) -> None:
    mail_id = office.register(unit=office.sau, confidential=True)
    tasks = office.container.tasks
    dispatch = office.task(office.director, "dispatch", mail_id)
    assert dispatch.confidential
    assert dispatch.mail_subject == ""

    tasks.complete(office.director, dispatch.id, "dispatch", {"addressed_unit": "AUT"})

    assert not sees(office, "stranger", mail_id)
    assert not sees(office, "director", mail_id)
    with pytest.raises(NotFound):
        tasks.progress(office.stranger, mail_id)
