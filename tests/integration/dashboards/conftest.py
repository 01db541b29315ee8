"""The circuits' agency, and helpers that put tasks in the states a dashboard counts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from ged.adapters.orm import Task
from ged.bootstrap import Container
from tests.integration.circuits.conftest import Office, make_office

ZONE = ZoneInfo("Africa/Casablanca")


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


def end_of(day: dt.date) -> dt.datetime:
    """The deadline moment of a task due on `day` (the start of the next agency day)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=ZONE)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ZONE)


def set_task(container: Container, task_id: int, **values: object) -> None:
    with container.writer() as uow:
        uow.session.execute(
            update(Task)
            .where(Task.id == task_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        uow.commit()


def processing_task(office: Office, unit: str = "SAU", subject: str = "Demande") -> int:
    """A mail registered and dispatched to `unit`: the id of its processing task."""
    mail_id = office.register(subject)
    office.dispatch(mail_id, unit=unit)
    holder = {"SAU": office.agent, "SJ": office.legal}[unit]
    return office.task(holder, "process", mail_id).id
