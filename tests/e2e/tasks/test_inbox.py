"""The inbox, the navbar badge and the home page: what each person finds, in which order."""

from __future__ import annotations

import re

from sqlalchemy import event

from ged.bootstrap import Container
from tests.e2e.conftest import text
from tests.e2e.tasks.conftest import Login, make_overdue
from tests.integration.circuits.conftest import Office

ROW_RE = re.compile(r'<tr data-task="(\d+)"( class="table-danger task-overdue")?>')
COUNT_RE = re.compile(r'data-count="(\w+)">(\d+)<')
NAV_RE = re.compile(r'id="nav-tasks">Mes tâches(?: <span class="badge[^"]*">(\d+))?')


def rows(html: str) -> list[tuple[int, bool]]:
    """The task rows of a page, in order, each with whether it is marked late."""
    return [(int(task_id), bool(late)) for task_id, late in ROW_RE.findall(html)]


def test_the_inbox_lists_my_tasks_overdue_first_with_their_due_dates_and_links(
    office: Office, container: Container, login: Login
) -> None:
    first = office.register("Premier courrier")
    second = office.register("Deuxième courrier")
    on_time = office.dispatch(first, days=3)
    late = office.dispatch(second, days=10)
    for task in (on_time, late):
        container.tasks.claim(office.agent, task.id)
    # Dispatched last with the later deadline, yet late: it comes first.
    make_overdue(container, late.id)
    agent = login("agent")

    html = agent.get("/tasks/").get_data(as_text=True)

    assert rows(html) == [(late.id, True), (on_time.id, False)]
    assert "En retard" in html
    assert f'href="/tasks/{late.id}"' in html
    assert f'href="/mail/{second}"' in html
    assert late.mail_chrono in html  # type: ignore[operator]
    due = container.tasks.due_date(on_time.due_at)  # type: ignore[arg-type]
    assert due.strftime("%d/%m/%Y") in html
    assert "Une de vos tâches a dépassé son échéance." in text(agent.get("/tasks/"))


def test_the_tabs_count_my_tasks_my_pool_and_the_late_ones_of_my_units(
    office: Office, container: Container, login: Login
) -> None:
    for n in range(3):
        office.dispatch(office.register(f"Courrier {n}"))
    pool = container.tasks.unit_pool(office.agent).rows
    container.tasks.claim(office.agent, pool[0].id)
    make_overdue(container, pool[1].id)

    agent_tabs = dict(COUNT_RE.findall(login("agent").get("/tasks/").get_data(as_text=True)))
    chef_tabs = dict(
        COUNT_RE.findall(login("chef").get("/tasks/?tab=overdue").get_data(as_text=True))
    )

    assert agent_tabs == {"mine": "1", "pool": "2", "delegated": "0"}  # no overdue tab
    assert chef_tabs == {"mine": "0", "pool": "2", "delegated": "0", "overdue": "1"}


def test_the_pool_tab_lists_open_tasks_of_my_unit_only(
    office: Office, container: Container, login: Login
) -> None:
    ours = office.dispatch(office.register("Pour SAU"))
    theirs_mail = office.register("Pour SJ", unit=office.sj)
    container.tasks.complete(
        office.director,
        office.task(office.director, "dispatch", theirs_mail).id,
        "dispatch",
        {"addressed_unit": "SJ", "processing_deadline": 5},
    )

    html = text(login("agent").get("/tasks/?tab=pool"))

    assert "Pour SAU" in html
    assert "Pour SJ" not in html
    assert f"/tasks/{ours.id}" in html


def test_the_overdue_tab_shows_late_tasks_by_unit_with_their_holder(
    office: Office, container: Container, login: Login
) -> None:
    process = office.dispatch(office.register("Courrier oublié"))
    container.tasks.claim(office.agent, process.id)
    make_overdue(container, process.id)

    html = text(login("directeur").get("/tasks/?tab=overdue"))

    assert rows(login("directeur").get("/tasks/?tab=overdue").get_data(True)) == [
        (process.id, True)
    ]
    assert "Personne agent" in html  # who holds it
    assert f'href="/tasks/{process.id}#reassign"' in login("directeur").get(
        "/tasks/?tab=overdue"
    ).get_data(as_text=True)
    assert "SAU</a> (1)" in html
    filtered = login("directeur").get(f"/tasks/?tab=overdue&unit={office.sj}")
    assert rows(filtered.get_data(as_text=True)) == []


def test_the_inbox_is_paginated(office: Office, container: Container, login: Login) -> None:
    for n in range(27):
        office.register(f"Courrier {n}")

    director = login("directeur")
    first = rows(director.get("/tasks/").get_data(as_text=True))
    second = rows(director.get("/tasks/?page=2").get_data(as_text=True))

    assert len(first) == 25
    assert len(second) == 2
    assert not {t for t, _ in first} & {t for t, _ in second}
    assert "Page 1 / 2" in text(director.get("/tasks/"))


def test_the_navbar_counts_the_tasks_i_can_act_on(office: Office, login: Login) -> None:
    office.dispatch(office.register())
    office.dispatch(office.register())

    agent_nav = NAV_RE.search(login("agent").get("/").get_data(as_text=True))
    legal_nav = NAV_RE.search(login("juriste").get("/").get_data(as_text=True))

    assert agent_nav is not None
    assert agent_nav.group(1) == "2"
    assert legal_nav is not None
    assert legal_nav.group(1) is None  # nothing to do: no badge


def test_the_home_page_shows_my_tasks_late_first_and_links_to_the_inbox(
    office: Office, container: Container, login: Login
) -> None:
    first = office.task(office.director, "dispatch", office.register("Premier"))
    second = office.task(office.director, "dispatch", office.register("Second"))
    make_overdue(container, second.id)

    response = login("directeur").get("/")

    html = response.get_data(as_text=True)
    assert rows(html) == [(second.id, True), (first.id, False)]
    assert 'href="/tasks/"' in html
    assert "Une tâche a dépassé son échéance." in text(response)


def test_a_subject_with_a_script_is_shown_escaped_everywhere(
    office: Office, container: Container, login: Login
) -> None:
    payload = "<script>alert('x')</script>"
    mail_id = office.register(f"Objet {payload}")
    process = office.dispatch(mail_id)
    container.tasks.complete(office.agent, process.id, "answer", comment=f"Avis {payload}")
    visa = office.task(office.chef, "visa", mail_id)
    chef = login("chef")

    for path in ("/", "/tasks/", f"/tasks/{visa.id}"):
        html = chef.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_a_confidential_subject_stays_out_of_the_inbox(
    office: Office, container: Container, login: Login
) -> None:
    mail_id = office.register("Contentieux secret", confidential=True)

    html = text(login("directeur").get("/tasks/"))

    assert office.task(office.director, "dispatch", mail_id).mail_chrono in html  # type: ignore[operator]
    assert "Contentieux secret" not in html
    assert "Confidentiel" in html


def test_the_inbox_costs_the_same_queries_for_two_tasks_or_thirty(
    office: Office, container: Container, login: Login
) -> None:
    director = login("directeur")

    def queries(path: str) -> int:
        seen: list[str] = []

        def count(*args: object) -> None:
            seen.append(str(args[2]))

        event.listen(container.engine, "before_cursor_execute", count)
        try:
            assert director.get(path).status_code == 200
        finally:
            event.remove(container.engine, "before_cursor_execute", count)
        return len(seen)

    for n in range(2):
        office.register(f"Courrier {n}")
    few = {path: queries(path) for path in ("/tasks/", "/")}
    for n in range(28):
        office.register(f"Autre courrier {n}")
    many = {path: queries(path) for path in ("/tasks/", "/")}

    assert many == few
