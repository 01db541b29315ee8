"""Inboxes, overdue lists and counts read the task table only, through its partial indexes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, text

from ged.bootstrap import Container
from tests.integration.circuits.conftest import Office


class Statements:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.seen.append(" ".join(str(args[2]).split()))


@pytest.fixture
def statements(container: Container) -> Iterator[Statements]:
    log = Statements()
    event.listen(container.engine, "before_cursor_execute", log)
    yield log
    event.remove(container.engine, "before_cursor_execute", log)


@pytest.fixture
def busy(office: Office) -> Office:
    """Late, pooled, held and delegated tasks, so that every query has rows to find."""
    tasks = office.container.tasks
    for n in range(3):
        mail_id = office.register(f"Demande {n}")
        process = office.dispatch(mail_id, days=1 + n)
        if n == 0:
            tasks.claim(office.agent, process.id)
        if n == 1:
            tasks.complete(office.colleague, process.id, "answer")
    today = tasks.today()
    office.container.delegations.create(
        office.chef, office.chef.user_id or 0, office.agent.user_id or 0, today, today
    )
    return office


def queries(office: Office) -> dict[str, Callable[[], object]]:
    tasks = office.container.tasks
    later = tasks.now() + dt.timedelta(days=30)
    return {
        "my_tasks": lambda: tasks.my_tasks(office.agent),
        "unit_pool": lambda: tasks.unit_pool(office.colleague),
        "delegated_to_me": lambda: tasks.delegated_to_me(office.agent),
        "overdue": lambda: tasks.overdue(office.chef, now=later),
        "overdue_admin": lambda: tasks.overdue(office.admin, now=later),
        "overdue_by_unit": lambda: tasks.overdue_by_unit(office.director, now=later),
        "counts": lambda: tasks.counts(office.chef, now=later),
    }


@pytest.mark.parametrize(
    "name",
    [
        "my_tasks",
        "unit_pool",
        "delegated_to_me",
        "overdue",
        "overdue_admin",
        "overdue_by_unit",
        "counts",
    ],
)
def test_inbox_queries_never_read_circuit_instances(
    busy: Office, statements: Statements, name: str
) -> None:
    start = len(statements.seen)

    result = queries(busy)[name]()

    used = statements.seen[start:]
    assert used, "the query ran no statement"
    assert not [s for s in used if "circuit_instance" in s], used
    assert result is not None


def test_the_inbox_finds_what_each_person_should_see(busy: Office) -> None:
    tasks = busy.container.tasks
    later = tasks.now() + dt.timedelta(days=30)

    assert [t.bpmn_id for t in tasks.my_tasks(busy.agent).rows] == ["process"]
    assert tasks.unit_pool(busy.colleague).total == 1
    assert [t.bpmn_id for t in tasks.delegated_to_me(busy.agent).rows] == ["visa"]
    # The two processing tasks; the visa has no deadline.
    assert tasks.overdue(busy.chef, now=later).total == 2
    counts = tasks.counts(busy.chef, now=later)
    assert (counts.mine, counts.overdue_managed) == (1, 2)


def test_pages_are_ordered_by_deadline_and_counted(busy: Office) -> None:
    tasks = busy.container.tasks
    later = tasks.now() + dt.timedelta(days=30)

    first = tasks.overdue(busy.admin, now=later, per_page=1)
    second = tasks.overdue(busy.admin, now=later, page=2, per_page=1)

    assert (first.total, first.pages, len(first.rows), len(second.rows)) == (2, 2, 1, 1)
    due = [t.due_at for t in (*first.rows, *second.rows)]
    assert due == sorted(d for d in due if d is not None)


PLANS = {
    "ix_task_assignee_active": (
        "SELECT id FROM task WHERE task.state IN ('open', 'claimed') AND assignee_id = 1 "
        "ORDER BY due_at"
    ),
    "ix_task_unit_pool": (
        "SELECT id FROM task WHERE task.state = 'open' AND candidate_unit_id = 1 ORDER BY due_at"
    ),
    "ix_task_unit_active": (
        "SELECT count(*) FROM task WHERE task.state IN ('open', 'claimed') "
        "AND unit_id IN (1, 2) AND due_at < '2030-01-01'"
    ),
    "ix_task_due_active": (
        "SELECT id FROM task WHERE task.state IN ('open', 'claimed') AND due_at < '2030-01-01' "
        "ORDER BY due_at"
    ),
}


@pytest.mark.parametrize("index", sorted(PLANS))
def test_sqlite_answers_inbox_queries_from_the_partial_indexes(
    container: Container, index: str
) -> None:
    if container.engine.dialect.name != "sqlite":
        pytest.skip("plans are checked on SQLite; PostgreSQL chooses by statistics")
    with container.engine.connect() as conn:
        plan = " ".join(
            str(row[-1]) for row in conn.execute(text(f"EXPLAIN QUERY PLAN {PLANS[index]}"))
        )

    assert index in plan, plan


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("my_tasks", "ix_task_assignee_active"),
        ("unit_pool", "ix_task_unit_pool"),
        ("overdue", "ix_task_unit_active"),
        ("overdue_admin", "ix_task_due_active"),
    ],
)
def test_the_statements_the_services_send_use_the_partial_indexes(
    busy: Office, statements: Statements, name: str, index: str
) -> None:
    container = busy.container
    if container.engine.dialect.name != "sqlite":
        pytest.skip("plans are checked on SQLite; PostgreSQL chooses by statistics")
    captured: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        captured.append((args[2], args[3]))

    event.listen(container.engine, "before_cursor_execute", capture)
    try:
        queries(busy)[name]()
    finally:
        event.remove(container.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = [(s, p) for s, p in captured if s.startswith("SELECT count")]
    with container.engine.connect() as conn:
        plan = " ".join(
            str(row[-1])
            for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )

    assert index in plan, plan
