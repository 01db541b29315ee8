"""Absence delegations: created and ended from the page; the delegate sees and does the tasks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from ged.adapters.orm import Delegation
from ged.bootstrap import Container
from tests.e2e.conftest import form_token, snapshot, text
from tests.e2e.tasks.conftest import Login, complete, task_state
from tests.integration.circuits.conftest import Office


def delegate(
    client: object, from_id: int, to_id: int, days: int = 5, start: dt.date | None = None
) -> object:
    token = form_token(client, "/tasks/delegations")  # type: ignore[arg-type]
    start = start or dt.date.today()
    return client.post(  # type: ignore[attr-defined]
        "/tasks/delegations",
        data={
            "csrf_token": token,
            "from_user_id": str(from_id),
            "to_user_id": str(to_id),
            "starts_on": start.isoformat(),
            "ends_on": (start + dt.timedelta(days=days)).isoformat(),
            "reason": "Congé annuel",
        },
    )


def delegations(container: Container) -> list[Delegation]:
    with container.reader() as uow:
        return list(uow.session.execute(select(Delegation).order_by(Delegation.id)).scalars())


def test_a_delegate_sees_and_completes_the_absent_persons_tasks(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register("Demande urgente")
    dispatch = office.task(office.director, "dispatch", mail_id)
    director = login("directeur")

    response = delegate(director, office.director.user_id, office.chef.user_id)  # type: ignore[arg-type]

    assert response.status_code == 303  # type: ignore[attr-defined]
    [row] = delegations(container)
    assert (row.from_user_id, row.to_user_id, row.reason) == (
        office.director.user_id,
        office.chef.user_id,
        "Congé annuel",
    )
    chef = login("chef")
    inbox = chef.get("/tasks/?tab=delegated")
    assert f"/tasks/{dispatch.id}" in inbox.get_data(as_text=True)
    assert "Personne directeur" in text(inbox)
    listing = text(chef.get("/tasks/delegations"))
    assert "Personne directeur" in listing
    assert "En cours" in listing

    done = complete(
        chef,
        dispatch.id,
        "dispatch",
        addressed_unit=str(office.sau),
        processing_deadline=(container.tasks.today() + dt.timedelta(days=9)).isoformat(),
    )

    assert done.status_code == 303, text(done)
    assert task_state(container, dispatch.id) == "done"


def test_ending_a_delegation_takes_the_tasks_back(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    director = login("directeur")
    delegate(director, office.director.user_id, office.chef.user_id)
    [row] = delegations(container)

    response = director.post(
        f"/tasks/delegations/{row.id}/end",
        data={"csrf_token": form_token(director, "/tasks/delegations")},
    )

    assert response.status_code == 303
    assert "Délégation terminée." in text(director.get(response.location))
    assert delegations(container)[0].ended_at is not None
    chef = login("chef")
    assert f"/tasks/{dispatch.id}" not in chef.get("/tasks/?tab=delegated").get_data(True)
    assert chef.get(f"/tasks/{dispatch.id}").status_code == 404


def test_a_manager_delegates_for_an_agent_of_his_unit(
    office: Office, container: Container, login: Login
) -> None:
    chef = login("chef")
    page = text(chef.get("/tasks/delegations"))
    assert "Personne agent" in page  # offered as the absent person

    response = delegate(chef, office.agent.user_id, office.colleague.user_id)  # type: ignore[arg-type]

    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.location.endswith(f"?user={office.agent.user_id}")  # type: ignore[attr-defined]
    [row] = delegations(container)
    assert row.from_user_id == office.agent.user_id
    assert "Personne collegue" in text(chef.get(f"/tasks/delegations?user={office.agent.user_id}"))


def test_an_agent_cannot_delegate_for_someone_else_nor_read_their_delegations(
    office: Office, container: Container, login: Login
) -> None:
    agent = login("agent")
    before = snapshot(container)

    response = delegate(agent, office.colleague.user_id, office.agent.user_id)

    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "Seuls la personne, son responsable ou un administrateur" in text(response)  # type: ignore[arg-type]
    assert snapshot(container) == before
    assert agent.get(f"/tasks/delegations?user={office.colleague.user_id}").status_code == 403


def test_a_bad_delegation_is_refused_with_a_clear_message(
    office: Office, container: Container, login: Login
) -> None:
    agent = login("agent")
    before = snapshot(container)

    to_self = delegate(agent, office.agent.user_id, office.agent.user_id)
    backwards = delegate(agent, office.agent.user_id, office.colleague.user_id, days=-3)
    to_auditor = delegate(agent, office.agent.user_id, office.auditor.user_id)

    assert to_self.status_code == 400  # type: ignore[attr-defined]
    assert "à soi-même" in text(to_self)  # type: ignore[arg-type]
    assert backwards.status_code == 400  # type: ignore[attr-defined]
    assert "précède son début" in text(backwards)  # type: ignore[arg-type]
    assert to_auditor.status_code == 400  # type: ignore[attr-defined]
    assert snapshot(container) == before


def test_ending_someone_elses_delegation_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    director = login("directeur")
    delegate(director, office.director.user_id, office.chef.user_id)
    [row] = delegations(container)
    stranger = login("etranger")
    before = snapshot(container)

    response = stranger.post(
        f"/tasks/delegations/{row.id}/end",
        data={"csrf_token": form_token(stranger, "/tasks/delegations")},
    )

    assert response.status_code == 403
    assert snapshot(container) == before


def test_creating_a_delegation_without_the_csrf_token_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    agent = login("agent")
    before = snapshot(container)
    today = dt.date.today()

    response = agent.post(
        "/tasks/delegations",
        data={
            "from_user_id": str(office.agent.user_id),
            "to_user_id": str(office.colleague.user_id),
            "starts_on": today.isoformat(),
            "ends_on": today.isoformat(),
        },
    )

    assert response.status_code == 400
    assert snapshot(container) == before


def test_the_delegations_of_an_unknown_person_are_not_found(office: Office, login: Login) -> None:
    assert login("admin").get("/tasks/delegations?user=999999").status_code == 404
