"""Every task route for every kind of person: who sees, who may act, and nothing leaks."""

from __future__ import annotations

import pytest
from flask import Flask

from ged.bootstrap import Container
from tests.e2e.conftest import hx_token, redirects_to_login, snapshot, text
from tests.e2e.tasks.conftest import (
    Login,
    action,
    complete,
    make_overdue,
    task_form,
    task_state,
)
from tests.integration.circuits.conftest import Office

# The processing task of a mail addressed to SAU, open in SAU's pool.
PAGE_ACCESS = [
    ("agent", 200),  # SAU: in their pool
    ("collegue", 200),  # SAU too
    ("chef", 200),  # manages SAU
    ("directeur", 200),  # manages DG, above SAU
    ("admin", 200),
    ("auditeur", 200),  # reads everything, acts on nothing
    ("juriste", 404),  # another unit
    ("etranger", 404),  # another unit
    ("greffier", 404),  # the registrar holds no step of it
]


@pytest.mark.parametrize(("username", "status"), PAGE_ACCESS)
def test_the_task_page_opens_to_those_the_service_lets_see_it(
    office: Office, login: Login, username: str, status: int
) -> None:
    mail_id = office.register("Dossier de lotissement Al Manar")
    process = office.dispatch(mail_id)

    response = login(username).get(f"/tasks/{process.id}")

    assert response.status_code == status
    page = text(response)
    if status == 404:
        assert "Traiter le courrier" not in page
        assert "Al Manar" not in page
    else:
        assert "Traiter le courrier" in page


@pytest.mark.parametrize(
    ("username", "claim", "complete_form", "reassign"),
    [
        ("agent", True, True, False),
        ("chef", True, True, True),  # a member of SAU as well as its manager
        ("directeur", False, False, True),
        ("admin", False, False, True),
        ("auditeur", False, False, False),
    ],
)
def test_the_task_page_offers_only_what_the_person_may_do(
    office: Office,
    login: Login,
    username: str,
    claim: bool,
    complete_form: bool,
    reassign: bool,
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)

    html = login(username).get(f"/tasks/{process.id}").get_data(as_text=True)

    assert (f"/tasks/{process.id}/claim" in html) is claim
    assert (f"/tasks/{process.id}/complete" in html) is complete_form
    assert (f"/tasks/{process.id}/reassign" in html) is reassign


@pytest.mark.parametrize(
    ("username", "status"),
    [("juriste", 404), ("greffier", 404), ("chef", 403), ("auditeur", 403), ("admin", 403)],
)
def test_completing_someone_elses_task_is_refused_and_changes_nothing(
    office: Office, container: Container, login: Login, username: str, status: int
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    container.tasks.claim(office.agent, process.id)
    agent = login("agent")
    _, version = task_form(agent, process.id)
    other = login(username)
    before = snapshot(container)

    response = other.post(
        f"/tasks/{process.id}/complete",
        data={"csrf_token": hx_token(other, "/tasks/"), "version": version, "outcome": "close"},
    )

    assert response.status_code == status
    assert snapshot(container) == before
    assert task_state(container, process.id) == "claimed"


@pytest.mark.parametrize("route", ["claim", "release", "reassign"])
def test_actions_on_an_invisible_task_answer_not_found(
    office: Office, container: Container, login: Login, route: str
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    _, version = task_form(login("agent"), process.id)
    stranger = login("etranger")
    before = snapshot(container)

    response = stranger.post(
        f"/tasks/{process.id}/{route}",
        data={
            "csrf_token": hx_token(stranger, "/tasks/"),
            "version": version,
            "to_user_id": str(office.stranger.user_id),
        },
    )

    assert response.status_code == 404
    assert snapshot(container) == before


def test_a_finished_task_shows_what_was_decided_and_refuses_every_action(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    agent = login("agent")
    form = task_form(agent, process.id)
    assert complete(agent, process.id, "close", form=form, comment="Sans objet.").status_code == 303

    page = text(agent.get(f"/tasks/{process.id}"))
    assert "Cette tâche est terminée" in page
    assert "Clôturer sans réponse" in page
    assert "Sans objet." in page
    before = snapshot(container)
    for route in ("claim", "release", "complete"):
        response = agent.post(
            f"/tasks/{process.id}/{route}",
            data={"csrf_token": form[0], "version": form[1], "outcome": "close"},
        )
        assert response.status_code == 409, route
        assert "déjà été traitée" in text(response)
    assert snapshot(container) == before


def test_a_cancelled_task_says_so_and_cannot_be_completed(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    make_overdue(container, process.id)
    container.tasks.escalate_overdue()
    [escalation] = [
        t for t in office.inbox(office.chef) if t.kind.value == "escalation"
    ]  # "Délai dépassé : …", given to the manager
    chef = login("chef")
    form = task_form(chef, escalation.id)
    # The late task is done: the reminder to chase it is cancelled.
    container.tasks.complete(office.agent, process.id, "close")
    assert task_state(container, escalation.id) == "cancelled"
    assert "Cette tâche a été annulée" in text(chef.get(f"/tasks/{escalation.id}"))
    before = snapshot(container)

    response = complete(chef, escalation.id, "acknowledge", form=form)

    assert response.status_code == 409
    assert "annulée" in text(response)
    assert snapshot(container) == before


def test_an_unknown_task_is_not_found(login: Login, office: Office) -> None:
    assert login("admin").get("/tasks/999999").status_code == 404


@pytest.mark.parametrize(
    "path",
    ["/tasks/", "/tasks/?tab=pool", "/tasks/1", "/tasks/delegations"],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client: object, path: str) -> None:
    response = client.get(path)  # type: ignore[attr-defined]
    assert redirects_to_login(response)


@pytest.mark.parametrize(
    ("username", "status"),
    [
        ("agent", 403),
        ("greffier", 403),
        ("chef", 200),
        ("directeur", 200),
        ("admin", 200),
        ("auditeur", 200),
    ],
)
def test_the_overdue_tab_is_for_those_who_watch_units(
    office: Office, login: Login, username: str, status: int
) -> None:
    office.register()
    assert login(username).get("/tasks/?tab=overdue").status_code == status


@pytest.mark.parametrize("username", ["agent", "chef", "greffier", "admin", "auditeur", "juriste"])
def test_every_person_has_an_inbox_and_a_delegation_page(
    office: Office, login: Login, username: str
) -> None:
    client = login(username)
    for tab in ("mine", "pool", "delegated"):
        assert client.get(f"/tasks/?tab={tab}").status_code == 200
    assert client.get("/tasks/delegations").status_code == 200


def test_a_manager_does_not_reach_the_tasks_of_a_unit_he_does_not_manage(
    office: Office, container: Container, login: Login, app: Flask
) -> None:
    mail_id = office.register(unit=office.sj)
    dispatch = office.task(office.director, "dispatch", mail_id)
    container.tasks.complete(
        office.director,
        dispatch.id,
        "dispatch",
        {"addressed_unit": "SJ", "processing_deadline": 5},
    )
    process = office.task(office.legal, "process", mail_id)
    chef = login("chef")  # manages SAU, not SJ

    assert chef.get(f"/tasks/{process.id}").status_code == 404
    assert action(login("directeur"), process.id, "claim").status_code == 403
