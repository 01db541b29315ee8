"""Overdue tasks by unit, by circuit step and by age in working days, at a fixed moment."""

from __future__ import annotations

import datetime as dt

import pytest

from ged.domain.errors import PermissionDenied
from ged.services.audit import Actor
from ged.services.circuits import working_calendar
from ged.services.dashboards import AgeBucket, TaskList, TaskQuery
from tests.integration.circuits.conftest import Office
from tests.integration.dashboards.conftest import at, end_of, processing_task, set_task

# A Monday, four weeks after the holiday of 18 November.
NOW = at(dt.date(2026, 12, 14))
TODAY = NOW.date()


def bucket_of(office: Office, due: dt.date) -> AgeBucket:
    with office.container.reader() as uow:
        late = working_calendar(uow.session).working_days_between(due, TODAY)
    return next(b for b in reversed(AgeBucket) if late > b.more_than or b is AgeBucket.UP_TO_3)


def test_overdue_tasks_are_counted_by_unit_step_and_working_day_age(office: Office) -> None:
    dashboards = office.container.dashboards
    due_days = [
        dt.date(2026, 12, 11),  # Friday: 1 working day late on Monday
        dt.date(2026, 12, 9),  # 3
        dt.date(2026, 12, 8),  # 4
        dt.date(2026, 12, 3),  # 7
        dt.date(2026, 12, 2),  # 8
        dt.date(2026, 11, 23),  # 15
        dt.date(2026, 11, 17),  # 18: the holiday of 18 November is not counted
    ]
    for due in due_days:
        set_task(office.container, processing_task(office), due_at=end_of(due))
    # Due today, and due earlier today at a set hour: only the second is late.
    set_task(office.container, processing_task(office), due_at=end_of(TODAY))
    set_task(office.container, processing_task(office), due_at=at(TODAY, 9))
    legal = processing_task(office, unit="SJ")
    set_task(office.container, legal, due_at=end_of(dt.date(2026, 12, 10)))

    overview = dashboards.overview(office.admin, now=NOW)

    assert overview.overdue_total == 9
    assert [(row.label, row.count) for row in overview.by_unit] == [
        ("SAU · Autorisations", 8),
        ("SJ · Juridique", 1),
    ]
    assert [(row.key, row.count) for row in overview.by_step] == [("incoming_mail/process", 9)]
    expected = dict.fromkeys(AgeBucket, 0)
    for due in [*due_days, dt.date(2026, 12, 10), TODAY]:
        expected[bucket_of(office, due)] += 1
    assert {AgeBucket(int(row.key)): row.count for row in overview.by_age} == expected
    assert expected == {
        AgeBucket.UP_TO_3: 4,
        AgeBucket.UP_TO_7: 2,
        AgeBucket.UP_TO_15: 2,
        AgeBucket.OVER_15: 1,
    }


def test_each_figure_drills_down_to_the_tasks_it_counts(office: Office) -> None:
    dashboards = office.container.dashboards
    old = processing_task(office, subject="Ancienne demande")
    recent = processing_task(office, subject="Demande récente")
    legal = processing_task(office, unit="SJ")
    set_task(office.container, old, due_at=end_of(dt.date(2026, 11, 2)))
    set_task(office.container, recent, due_at=end_of(dt.date(2026, 12, 11)))
    set_task(office.container, legal, due_at=end_of(dt.date(2026, 12, 11)))
    overview = dashboards.overview(office.admin, now=NOW)

    for row in overview.by_unit:
        listed = dashboards.tasks(
            office.admin, TaskQuery(TaskList.OVERDUE, unit_id=int(row.key)), now=NOW
        )
        assert listed.total == row.count
    for row in overview.by_age:
        listed = dashboards.tasks(
            office.admin, TaskQuery(TaskList.OVERDUE, age=AgeBucket(int(row.key))), now=NOW
        )
        assert listed.total == row.count
    [step] = overview.by_step
    by_step = dashboards.tasks(office.admin, TaskQuery(TaskList.OVERDUE, step=step.key), now=NOW)
    assert {line.id for line in by_step.rows} == {old, recent, legal}
    [oldest] = dashboards.tasks(
        office.admin, TaskQuery(TaskList.OVERDUE, age=AgeBucket.OVER_15), now=NOW
    ).rows
    assert oldest.id == old
    assert oldest.subject == "Ancienne demande"


def test_a_confidential_subject_stays_out_of_the_list(office: Office) -> None:
    mail_id = office.register("Plainte contre un élu", confidential=True)
    office.dispatch(mail_id)
    task_id = office.task(office.agent, "process", mail_id).id
    set_task(office.container, task_id, due_at=end_of(dt.date(2026, 12, 1)))

    [line] = office.container.dashboards.tasks(office.chef, TaskQuery(), now=NOW).rows

    assert line.chrono
    assert line.subject == ""


def test_managers_see_their_units_subtree_and_nobody_else_has_a_dashboard(
    office: Office,
) -> None:
    dashboards = office.container.dashboards
    for unit in ("SAU", "SJ"):
        set_task(
            office.container,
            processing_task(office, unit=unit),
            due_at=end_of(dt.date(2026, 12, 1)),
        )

    def units(actor: Actor) -> list[str]:
        return [row.label for row in dashboards.overview(actor, now=NOW).by_unit]

    assert units(office.chef) == ["SAU · Autorisations"]
    assert units(office.director) == ["SAU · Autorisations", "SJ · Juridique"]
    assert units(office.admin) == units(office.auditor) == units(office.director)
    for outsider in (office.agent, office.legal, office.clerk, office.stranger):
        assert not dashboards.may_see(outsider)
        with pytest.raises(PermissionDenied):
            dashboards.overview(outsider, now=NOW)
        with pytest.raises(PermissionDenied):
            dashboards.tasks(outsider, TaskQuery(), now=NOW)
    # The SAU manager cannot list another unit's tasks, even by naming it.
    with pytest.raises(PermissionDenied):
        dashboards.tasks(office.chef, TaskQuery(unit_id=office.sj), now=NOW)
    assert dashboards.tasks(office.chef, TaskQuery(), now=NOW).total == 1
    assert dashboards.scope_root(office.chef) == office.sau
    assert dashboards.scope_root(office.director) == office.dg
    assert dashboards.scope_root(office.admin) is None
