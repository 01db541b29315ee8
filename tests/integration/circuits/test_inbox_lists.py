"""Every inbox list gives exactly the rows its rule names, in deadline order, page by page.

The lists pick their page's ids from a partial index first, then read the rows: this checks
them against the rule itself, applied in Python to every row of the table, on tasks in every
state, with and without deadlines, in unit and role pools at once, held and delegated.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from random import Random
from typing import Any

import pytest
from sqlalchemy import insert, select

from ged.adapters.orm import CircuitInstance, Task
from ged.services.audit import Actor
from ged.services.tasks import TaskPage
from tests.integration.circuits.conftest import Office

NOW = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
Row = dict[str, Any]


@pytest.fixture
def rows(office: Office) -> list[Row]:
    """Eighty tasks on one instance, their holders and deadlines drawn at random."""
    mail_id = office.register()
    with office.container.reader() as uow:
        instance_id = uow.session.execute(
            select(CircuitInstance.id).where(CircuitInstance.mail_id == mail_id)
        ).scalar_one()
    random = Random(4)
    people = [office.agent, office.colleague, office.legal, office.chef, office.stranger]
    units = [office.sau, office.sj, office.other, None]
    made: list[Row] = []
    for n in range(80):
        state = random.choice(["open", "open", "claimed", "claimed", "done", "cancelled"])
        holder = random.choice(people)
        unit = random.choice(units)
        due = (
            None
            if random.random() < 0.2
            # Some deadlines shared, so that the id decides between them.
            else NOW + dt.timedelta(days=random.randint(-6, 6))
        )
        made.append(
            {
                "instance_id": instance_id,
                "mail_id": mail_id,
                "kind": "user",
                "engine_task_id": str(uuid.UUID(int=n + 1)),
                "bpmn_id": "process",
                "name": f"Tâche {n}",
                "lane": "addressed_unit",
                "unit_id": unit if state == "open" else holder.unit_id,
                "candidate_unit_id": unit if state == "open" else None,
                "candidate_role": random.choice(["agent", "manager", None])
                if state == "open"
                else None,
                "assignee_id": None if state == "open" else holder.user_id,
                "form_data": {},
                "due_at": due,
                "state": state,
                "created_at": NOW - dt.timedelta(days=10),
            }
        )
    with office.container.writer() as uow:
        uow.session.execute(insert(Task), made)
        uow.commit()
    with office.container.reader() as uow:
        stored = uow.session.execute(select(Task).where(Task.instance_id == instance_id)).scalars()
        return [{c.key: getattr(t, c.key) for c in Task.__table__.columns} for t in stored]


def expected(rows: list[Row], rule: Callable[[Row], bool], *, overdue: bool = False) -> list[int]:
    """Ids of the rows the rule keeps, earliest deadline first (none last), then by id."""
    kept = [r for r in rows if rule(r)]
    if overdue:
        kept.sort(key=lambda r: (r["due_at"], r["id"]))
    else:
        kept.sort(key=lambda r: (r["due_at"] is None, r["due_at"] or NOW, r["id"]))
    return [r["id"] for r in kept]


def listed(read: Callable[[int], TaskPage], per_page: int = 7) -> tuple[list[int], int]:
    """Every page of a list, read in turn; the ids and the total the first page gave."""
    first = read(1)
    ids = [t.id for t in first.rows]
    for page in range(2, first.pages + 1):
        ids += [t.id for t in read(page).rows]
    assert all(len(read(p).rows) <= per_page for p in (1, first.pages))
    return ids, first.total


def active(row: Row) -> bool:
    return row["state"] in ("open", "claimed")


def test_my_tasks_lists_what_i_hold(office: Office, rows: list[Row]) -> None:
    tasks = office.container.tasks
    for actor in (office.agent, office.colleague, office.chef):
        ids, total = listed(lambda p, a=actor: tasks.my_tasks(a, page=p, per_page=7))
        want = expected(rows, lambda r, a=actor: active(r) and r["assignee_id"] == a.user_id)
        assert ids == want
        assert total == len(want)


def test_the_pool_lists_my_units_and_my_roles_open_tasks_once(
    office: Office, rows: list[Row]
) -> None:
    tasks = office.container.tasks
    for actor in (office.agent, office.legal, office.chef):

        def in_pool(r: Row, a: Actor = actor) -> bool:
            assert a.role is not None
            return r["state"] == "open" and (
                r["candidate_unit_id"] == a.unit_id or r["candidate_role"] == a.role.value
            )

        ids, total = listed(lambda p, a=actor: tasks.unit_pool(a, page=p, per_page=7))
        want = expected(rows, in_pool)
        assert any(
            r["candidate_unit_id"] == actor.unit_id and r["candidate_role"] == "agent"
            for r in rows
            if r["state"] == "open"
        )
        assert ids == want
        assert total == len(want)


def test_overdue_lists_late_tasks_of_my_units_or_all(office: Office, rows: list[Row]) -> None:
    tasks = office.container.tasks
    late = [
        (office.chef, {office.sau}),
        (office.director, {office.dg, office.sau, office.sj, office.other}),
        (office.admin, None),
    ]
    for actor, units in late:

        def rule(r: Row, scope: set[int] | None = units) -> bool:
            return (
                active(r)
                and r["due_at"] is not None
                and r["due_at"] < NOW
                and (scope is None or r["unit_id"] in scope)
            )

        ids, total = listed(lambda p, a=actor: tasks.overdue(a, page=p, per_page=7, now=NOW))
        want = expected(rows, rule, overdue=True)
        assert want
        assert ids == want
        assert total == len(want)


def test_delegated_tasks_and_counts_follow_the_same_rules(office: Office, rows: list[Row]) -> None:
    tasks = office.container.tasks
    today = tasks.today()
    office.container.delegations.create(
        office.chef, office.chef.user_id or 0, office.agent.user_id or 0, today, today
    )
    ids, total = listed(lambda p: tasks.delegated_to_me(office.agent, page=p, per_page=7))
    assert ids == expected(rows, lambda r: active(r) and r["assignee_id"] == office.chef.user_id)
    assert total == len(ids)

    counts = tasks.counts(office.chef, now=NOW)
    mine = [r for r in rows if active(r) and r["assignee_id"] == office.chef.user_id]
    assert counts.mine == len(mine)
    assert counts.overdue_mine == len([r for r in mine if r["due_at"] and r["due_at"] < NOW])
    assert counts.pool == len(
        [
            r
            for r in rows
            if r["state"] == "open"
            and (r["candidate_unit_id"] == office.sau or r["candidate_role"] == "manager")
        ]
    )
    assert counts.overdue_managed == len(
        [
            r
            for r in rows
            if active(r) and r["unit_id"] == office.sau and r["due_at"] and r["due_at"] < NOW
        ]
    )
