"""Deadline compliance over a period, mail volumes per week, and aggregates that stay in SQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from ged.adapters.orm import Base
from ged.bootstrap import Container
from ged.services.dashboards import Period, TaskList, TaskQuery
from tests.integration.circuits.conftest import Office
from tests.integration.dashboards.conftest import at, end_of, processing_task, set_task

NOW = at(dt.date(2026, 12, 14))
PERIOD = Period(dt.date(2026, 12, 1), dt.date(2026, 12, 11))
DUE = end_of(dt.date(2026, 12, 4))


def done(office: Office, task_id: int, completed: dt.datetime, due: dt.datetime = DUE) -> None:
    set_task(office.container, task_id, state="done", completed_at=completed, due_at=due)


def test_compliance_counts_on_time_late_and_still_open_tasks_per_unit_and_type(
    office: Office,
) -> None:
    dashboards = office.container.dashboards
    on_time = [processing_task(office) for _ in range(3)]
    for task_id in on_time:
        done(office, task_id, at(dt.date(2026, 12, 4), 17))
    late = processing_task(office)
    done(office, late, at(dt.date(2026, 12, 7)))
    still_open = processing_task(office)
    set_task(office.container, still_open, due_at=end_of(dt.date(2026, 12, 8)))
    # Outside the period: done before it, and due after it.
    done(office, processing_task(office), at(dt.date(2026, 11, 20)))
    set_task(office.container, processing_task(office), due_at=end_of(dt.date(2026, 12, 12)))
    legal = processing_task(office, unit="SJ")
    done(office, legal, at(dt.date(2026, 12, 2)))

    by_unit = dashboards.compliance_by_unit(office.director, PERIOD, now=NOW)

    assert [(r.label, r.on_time, r.late, r.open_late, r.rate) for r in by_unit] == [
        ("SAU · Autorisations", 3, 1, 1, 60.0),
        ("SJ · Juridique", 1, 0, 0, 100.0),
    ]
    [demand] = dashboards.compliance_by_mail_type(office.director, PERIOD, now=NOW)
    assert (demand.label, demand.on_time, demand.late, demand.open_late) == ("Demande", 4, 1, 1)
    [sau] = dashboards.compliance_by_unit(office.chef, PERIOD, now=NOW)
    assert sau.total == 5

    def listed(kind: TaskList, **filters: Any) -> set[int]:
        query = TaskQuery(kind, period=PERIOD, per_page=200, **filters)
        return {line.id for line in dashboards.tasks(office.director, query, now=NOW).rows}

    assert listed(TaskList.ON_TIME, unit_id=office.sau) == set(on_time)
    assert listed(TaskList.LATE, unit_id=office.sau) == {late}
    assert listed(TaskList.OPEN_LATE, unit_id=office.sau) == {still_open}
    assert listed(TaskList.ON_TIME, mail_type_id=office.incoming_type) == {*on_time, legal}


def test_volumes_are_counted_per_week_and_direction_under_the_mail_rules(
    office: Office,
) -> None:
    dashboards = office.container.dashboards
    for _ in range(3):
        office.register("Arrivée")
    office.register("Départ", direction="outgoing", mail_type=office.outgoing_type)
    office.register("Autre service", unit=office.sj)
    office.register("Confidentiel", confidential=True)
    today = dashboards.today()
    monday = today - dt.timedelta(days=today.weekday())
    period = Period(monday - dt.timedelta(weeks=1), today)

    admin_weeks = dashboards.volumes(office.admin, period)
    chef_weeks = dashboards.volumes(office.chef, period)
    auditor_weeks = dashboards.volumes(office.auditor, period)

    assert [w.monday for w in admin_weeks] == [monday - dt.timedelta(weeks=1), monday]
    assert (admin_weeks[0].incoming, admin_weeks[0].outgoing) == (0, 0)
    # The administrator sees no confidential mail; the auditor sees everything.
    assert (admin_weeks[1].incoming, admin_weeks[1].outgoing) == (4, 1)
    assert auditor_weeks[1].incoming == 5
    # The SAU manager: mail addressed to SAU that the list would show them.
    assert (chef_weeks[1].incoming, chef_weeks[1].outgoing) == (3, 1)


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The SQL statements run, and a failure if any mapped object is loaded meanwhile."""
    seen: list[str] = []
    loaded: list[str] = []

    def on_execute(*args: Any) -> None:
        seen.append(str(args[2]))

    def on_load(target: Any, _context: Any) -> None:
        loaded.append(type(target).__name__)

    classes = [mapper.class_ for mapper in Base.registry.mappers]
    event.listen(container.engine, "before_cursor_execute", on_execute)
    for cls in classes:
        event.listen(cls, "load", on_load)
    try:
        yield seen
    finally:
        event.remove(container.engine, "before_cursor_execute", on_execute)
        for cls in classes:
            event.remove(cls, "load", on_load)
    assert loaded == [], f"a dashboard loaded ORM objects: {loaded}"


def run_every_figure(office: Office) -> None:
    dashboards = office.container.dashboards
    dashboards.overview(office.director, now=NOW)
    dashboards.compliance_by_unit(office.director, PERIOD, now=NOW)
    dashboards.compliance_by_mail_type(office.director, PERIOD, now=NOW)
    dashboards.volumes(office.director, PERIOD)


def test_dashboards_aggregate_in_sql_whatever_the_number_of_tasks(office: Office) -> None:
    set_task(office.container, processing_task(office), due_at=DUE)
    with statements(office.container) as few:
        run_every_figure(office)
    for _ in range(6):
        task_id = processing_task(office, unit="SJ")
        set_task(office.container, task_id, due_at=DUE)
    done(office, processing_task(office), at(dt.date(2026, 12, 3)))
    with statements(office.container) as many:
        run_every_figure(office)

    assert len(many) == len(few)
    # Every statement that reads the task or mail table (not a subquery in it) groups.
    figures = [s for s in many if re.search(r"^SELECT .*?\nFROM (task|mail)\b", s, re.S)]
    assert len(figures) == 6
    assert all("GROUP BY" in s for s in figures), figures
