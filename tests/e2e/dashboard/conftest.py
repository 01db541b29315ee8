"""The circuits' agency with late tasks, a hostile unit name and a formula-like mail type."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import select, update

from ged.adapters.orm import Task
from ged.bootstrap import Container
from ged.services.admin import UnitData
from tests.builders import SYSTEM
from tests.integration.circuits.conftest import Office, make_office

XSS_UNIT = "<script>alert('unité')</script>"
FORMULA_TYPE = '=HYPERLINK("http://evil.example","cliquez")'


@dataclass(frozen=True)
class Agency:
    office: Office
    hostile_unit: int
    late_task: int  # in SAU, overdue for a few days
    hostile_task: int  # in the hostile unit, of the formula-like mail type


def _process_task(container: Container, mail_id: int) -> int:
    with container.reader() as uow:
        return uow.session.execute(
            select(Task.id).where(Task.mail_id == mail_id, Task.bpmn_id == "process")
        ).scalar_one()


def _make_late(container: Container, task_id: int, days: int) -> None:
    with container.writer() as uow:
        uow.session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(due_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days))
            .execution_options(synchronize_session=False)
        )
        uow.commit()


@pytest.fixture
def agency(container: Container) -> Agency:
    office = make_office(container)
    hostile = container.admin.create_unit(SYSTEM, UnitData("XSS", XSS_UNIT, parent_id=office.dg))
    formula_type = container.registry.create_mail_type(
        SYSTEM, "FRM", FORMULA_TYPE, 5, "incoming_mail"
    )
    late_mail = office.register("Demande en retard")
    office.dispatch(late_mail)
    hostile_mail = office.register("Dossier piégé", unit=hostile, mail_type=formula_type)
    office.dispatch(hostile_mail, unit="XSS")
    late_task = _process_task(container, late_mail)
    hostile_task = _process_task(container, hostile_mail)
    _make_late(container, late_task, 3)
    _make_late(container, hostile_task, 2)
    return Agency(office, hostile, late_task, hostile_task)
