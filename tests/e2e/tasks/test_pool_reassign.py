"""A manager puts a task back in a unit's pool from the task page's « Réattribuer » card."""

from __future__ import annotations

import re

from sqlalchemy import select

from ged.adapters.orm import Task
from ged.bootstrap import Container
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.e2e.conftest import snapshot, text
from tests.e2e.tasks.conftest import Login, action, task_form
from tests.integration.circuits.conftest import Office

POOL_OPTION = re.compile(r'<option(?P<selected> selected)? value="(?P<id>\d+)">(?P<label>[^<]*)<')


def holders(container: Container, task_id: int) -> tuple[str, int | None, int | None]:
    with container.reader() as uow:
        row = uow.session.execute(
            select(Task.state, Task.assignee_id, Task.candidate_unit_id).where(Task.id == task_id)
        ).one()
        return row.state, row.assignee_id, row.candidate_unit_id


def pool_choices(html: str) -> list[tuple[str, bool]]:
    """The pool form's units: (label, preselected)."""
    form = html.split('id="pool"', 1)[1].split("</form>", 1)[0]
    return [(m["label"], bool(m["selected"])) for m in POOL_OPTION.finditer(form)]


def test_the_manager_puts_a_held_task_back_in_the_pool_of_its_unit(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.agent, process.id)
    chef = login("chef")
    page = chef.get(f"/tasks/{process.id}").get_data(as_text=True)
    assert f'action="/tasks/{process.id}/pool"' in page
    assert pool_choices(page) == [("SAU · Autorisations", True)]

    response = action(chef, process.id, "pool", unit_id=str(office.sau), comment="Congé")

    assert response.status_code == 303
    assert "Tâche remise dans le panier de l'entité choisie" in text(chef.get(response.location))
    assert holders(container, process.id) == ("open", None, office.sau)
    colleague_pool = login("collegue").get("/tasks/?tab=pool").get_data(as_text=True)
    assert f"/tasks/{process.id}" in colleague_pool
    assert f"/tasks/{process.id}" not in login("agent").get("/tasks/").get_data(as_text=True)


def test_the_units_offered_are_those_the_person_manages_named_in_their_language(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.agent, process.id)
    container.admin.update_unit(
        SYSTEM,
        office.sj,
        UnitData("SJ", "Juridique", name_ar="الشؤون القانونية", parent_id=office.dg),
    )

    director = login("directeur")
    choices = pool_choices(director.get(f"/tasks/{process.id}").get_data(as_text=True))
    assert choices == [
        ("AUT · Autre service", False),
        ("DG · Direction générale", False),
        ("SAU · Autorisations", True),
        ("SJ · Juridique", False),
    ]
    container.accounts.set_locale(office.director, "ar")
    arabic = text(director.get(f"/tasks/{process.id}"))
    assert "SJ · الشؤون القانونية" in arabic
    assert "الإرجاع إلى سلة مصلحة" in arabic
    assert "Remettre dans le panier" not in arabic

    agent_page = login("agent").get(f"/tasks/{process.id}").get_data(as_text=True)
    assert f"/tasks/{process.id}/pool" not in agent_page

    response = action(director, process.id, "pool", unit_id=str(office.sj))
    assert response.status_code == 303
    assert holders(container, process.id) == ("open", None, office.sj)


def test_a_pool_outside_the_managed_units_is_refused_and_changes_nothing(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.agent, process.id)
    chef = login("chef")
    before = snapshot(container)

    refused = action(chef, process.id, "pool", unit_id=str(office.sj))

    assert refused.status_code == 403
    assert snapshot(container) == before


def test_a_form_without_a_unit_or_a_stale_one_keeps_the_task_page_with_the_reason(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.agent, process.id)
    chef = login("chef")
    before = snapshot(container)

    empty = action(chef, process.id, "pool", unit_id="", comment="Absent")

    assert empty.status_code == 400
    page = text(empty)
    assert "Choisissez l'entité" in page
    assert "Traiter le courrier" in page
    typed = re.search(r'id="pool-comment"[^>]*>\s*([^<]*)</textarea>', page)
    assert typed
    assert typed.group(1) == "Absent"  # what was typed is kept
    assert snapshot(container) == before

    token, version = task_form(chef, process.id)
    container.tasks.release(office.agent, process.id)
    container.tasks.claim(office.colleague, process.id)
    before = snapshot(container)
    stale = chef.post(
        f"/tasks/{process.id}/pool",
        data={"csrf_token": token, "version": version, "unit_id": str(office.sau)},
    )

    assert stale.status_code == 409
    assert "rechargez" in text(stale)
    assert snapshot(container) == before


def test_putting_a_task_in_a_pool_without_the_csrf_token_is_refused(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register())
    container.tasks.claim(office.agent, process.id)
    chef = login("chef")
    _, version = task_form(chef, process.id)
    before = snapshot(container)

    response = chef.post(
        f"/tasks/{process.id}/pool", data={"version": version, "unit_id": str(office.sau)}
    )

    assert response.status_code == 400
    assert snapshot(container) == before
