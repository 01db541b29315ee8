"""Taking a task from the pool, giving it back, and a manager giving it to someone else."""

from __future__ import annotations

from sqlalchemy import select

from ged.adapters.orm import Task
from ged.bootstrap import Container
from tests.e2e.conftest import hx_token, snapshot, text
from tests.e2e.tasks.conftest import Login, action, task_form, task_state
from tests.integration.circuits.conftest import Office


def assignee(container: Container, task_id: int) -> int | None:
    with container.reader() as uow:
        return uow.session.execute(select(Task.assignee_id).where(Task.id == task_id)).scalar_one()


def test_claiming_then_releasing_moves_the_task_between_pool_and_my_tasks(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    agent = login("agent")

    claimed = action(agent, process.id, "claim")

    assert claimed.status_code == 303
    assert task_state(container, process.id) == "claimed"
    assert assignee(container, process.id) == office.agent.user_id
    assert "Vous avez pris cette tâche" in text(agent.get(claimed.location))
    assert f"/tasks/{process.id}/release" in agent.get(f"/tasks/{process.id}").get_data(True)

    released = action(agent, process.id, "release")

    assert released.status_code == 303
    assert task_state(container, process.id) == "open"
    assert assignee(container, process.id) is None
    assert f"/tasks/{process.id}" in agent.get("/tasks/?tab=pool").get_data(True)


def test_a_task_claimed_by_a_colleague_meanwhile_cannot_be_claimed_again(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    agent = login("agent")
    token, version = task_form(agent, process.id)
    container.tasks.claim(office.colleague, process.id)
    before = snapshot(container)

    response = agent.post(
        f"/tasks/{process.id}/claim", data={"csrf_token": token, "version": version}
    )

    assert response.status_code == 409
    assert "rechargez" in text(response)
    assert snapshot(container) == before
    assert assignee(container, process.id) == office.colleague.user_id


def test_releasing_a_task_someone_else_holds_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.colleague, process.id)
    _, version = task_form(login("collegue"), process.id)  # the current version
    agent = login("agent")
    token = hx_token(agent, "/tasks/")
    before = snapshot(container)

    response = agent.post(
        f"/tasks/{process.id}/release", data={"csrf_token": token, "version": version}
    )

    assert response.status_code == 403
    assert snapshot(container) == before


def test_the_manager_reassigns_a_task_to_someone_of_his_unit(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.agent, process.id)
    chef = login("chef")

    response = action(
        chef, process.id, "reassign", to_user_id=str(office.colleague.user_id), comment="Congé"
    )

    assert response.status_code == 303
    assert "Tâche réattribuée." in text(chef.get(response.location))
    assert assignee(container, process.id) == office.colleague.user_id
    assert f"/tasks/{process.id}" in login("collegue").get("/tasks/").get_data(True)


def test_reassigning_outside_the_managed_units_is_refused_with_the_services_message(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    chef = login("chef")
    token, version = task_form(chef, process.id)
    before = snapshot(container)

    response = chef.post(
        f"/tasks/{process.id}/reassign",
        data={"csrf_token": token, "version": version, "to_user_id": str(office.legal.user_id)},
    )

    assert response.status_code == 403
    assert "qu'à une personne de vos entités" in text(response)
    assert snapshot(container) == before


def test_reassigning_without_choosing_anyone_keeps_the_task_page(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    chef = login("chef")
    before = snapshot(container)

    response = action(chef, process.id, "reassign", to_user_id="")

    assert response.status_code == 400
    assert "Choisissez la personne" in text(response)
    assert "Traiter le courrier" in text(response)
    assert snapshot(container) == before


def test_an_agent_cannot_reassign(office: Office, container: Container, login: Login) -> None:
    process = office.dispatch(office.register())
    agent = login("agent")
    token, version = task_form(agent, process.id)
    before = snapshot(container)

    response = agent.post(
        f"/tasks/{process.id}/reassign",
        data={
            "csrf_token": token,
            "version": version,
            "to_user_id": str(office.colleague.user_id),
        },
    )

    assert response.status_code == 403
    assert snapshot(container) == before


def test_the_admin_reassigns_across_units(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())

    response = action(login("admin"), process.id, "reassign", to_user_id=str(office.legal.user_id))

    assert response.status_code == 303
    assert assignee(container, process.id) == office.legal.user_id
    assert f"/tasks/{process.id}" in login("juriste").get("/tasks/").get_data(True)


def test_claiming_without_the_csrf_token_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    agent = login("agent")
    _, version = task_form(agent, process.id)
    before = snapshot(container)

    response = agent.post(f"/tasks/{process.id}/claim", data={"version": version})

    assert response.status_code == 400
    assert snapshot(container) == before


def test_the_reassign_list_offers_the_people_of_the_managers_units(
    office: Office, login: Login
) -> None:
    process = office.dispatch(office.register())

    chef_page = text(login("chef").get(f"/tasks/{process.id}"))
    admin_page = text(login("admin").get(f"/tasks/{process.id}"))

    assert "Personne collegue (SAU)" in chef_page
    assert "Personne juriste (SJ)" not in chef_page
    assert "Personne juriste (SJ)" in admin_page
    assert "Personne auditeur" not in admin_page
