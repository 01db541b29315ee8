"""One clock for the services: a container built on another clock dates what it writes by it.

The demo replays eight weeks this way (docs/demo.md); the rows, the history and the audit log
must agree with each other, and the audit chain must hold.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from ged import bootstrap
from ged.adapters.orm import AuditEvent, Comment, Mail, Unit, User
from ged.bootstrap import Container
from ged.clock import ManualClock, today_in, utc_now
from ged.domain.model import Direction, Role
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor, verify_chain
from ged.services.mail import MailInput
from ged.services.permissions import search_visibility
from tests.builders import Builders

SYSTEM = Actor.system("tests")
MONDAY = dt.datetime(2025, 3, 3, 8, 30, tzinfo=dt.UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY)


@pytest.fixture
def clocked(container: Container, clock: ManualClock) -> Iterator[Container]:
    """The services of the test's instance, on the manual clock."""
    other = bootstrap.build(
        container.settings,
        engine=container.engine,
        passwords=container.passwords,
        immediate_jobs=True,
        clock=clock,
    )
    yield other
    other.search.index.close()


def audit_times(container: Container, action: str) -> list[dt.datetime]:
    with container.reader() as uow:
        return list(
            uow.session.execute(
                select(AuditEvent.at).where(AuditEvent.action == action).order_by(AuditEvent.id)
            ).scalars()
        )


def test_rows_history_and_audit_carry_the_clocks_time(
    container: Container, clocked: Container, clock: ManualClock
) -> None:
    unit_id = clocked.admin.create_unit(SYSTEM, UnitData("CLK", "Unité de l'horloge"))
    clock.set(MONDAY + dt.timedelta(days=1, hours=2))
    user_id = clocked.admin.create_user(
        SYSTEM,
        UserData("horloge", "Personne à l'heure", Role.REGISTRAR.value, unit_id),
        Builders.PASSWORD,
    )
    registrar = Actor.of(clocked.admin.get_user(SYSTEM, user_id))
    clock.set(MONDAY + dt.timedelta(days=7))
    mail = clocked.registry.register(
        registrar, MailInput(Direction.INTERNAL.value, "Note datée", unit_ids=(unit_id,))
    )
    clock.set(MONDAY + dt.timedelta(days=9, minutes=5))
    clocked.registry.comment(registrar, mail.id, "Vu deux jours plus tard.")

    with container.reader() as uow:
        session = uow.session
        assert session.get_one(Unit, unit_id).created_at == MONDAY
        user = session.get_one(User, user_id)
        assert user.created_at == user.password_changed_at == MONDAY + dt.timedelta(days=1, hours=2)
        row = session.get_one(Mail, mail.id)
        assert row.registered_at == MONDAY + dt.timedelta(days=7)
        # The registry's today is the clock's: the date of the mail, the year of its chrono.
        assert (row.mail_date, row.year) == (dt.date(2025, 3, 10), 2025)
        [comment] = session.execute(select(Comment).where(Comment.mail_id == mail.id)).scalars()
        assert comment.created_at == MONDAY + dt.timedelta(days=9, minutes=5)
        assert list(verify_chain(session)) == []
    assert audit_times(container, "unit.created") == [MONDAY]
    assert audit_times(container, "user.created") == [MONDAY + dt.timedelta(days=1, hours=2)]
    assert audit_times(container, "mail.registered") == [MONDAY + dt.timedelta(days=7)]


def test_the_containers_own_clock_stays_the_real_time(
    container: Container, clocked: Container
) -> None:
    clocked.admin.create_unit(SYSTEM, UnitData("PAST", "Hier"))
    before = utc_now()
    unit_id = container.admin.create_unit(SYSTEM, UnitData("NOW", "Aujourd'hui"))
    after = utc_now()

    with container.reader() as uow:
        assert before <= uow.session.get_one(Unit, unit_id).created_at <= after
        assert list(verify_chain(uow.session)) == []
    assert audit_times(container, "unit.created")[0] == MONDAY


def test_a_clock_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        ManualClock(dt.datetime(2025, 3, 3, 8, 30))
    clock = ManualClock(MONDAY)
    with pytest.raises(ValueError, match="aware"):
        clock.set(dt.datetime(2025, 3, 4))
    assert clock() == MONDAY


def test_a_delegation_counts_in_the_agencys_days_not_utcs(
    clocked: Container, clock: ManualClock, build: Builders
) -> None:
    """At 23:30 UTC it is already the next day in Casablanca (UTC+1): a delegation starting
    that day gives its rights from the agency's midnight, in tasks and in search alike."""
    assert clocked.settings.timezone == "Africa/Casablanca"
    clock.set(dt.datetime(2026, 12, 6, 23, 30, tzinfo=dt.UTC))
    agency_day = dt.date(2026, 12, 7)
    unit = build.unit("DLG")
    chef = build.user("chef.dlg", role=Role.MANAGER, unit_id=unit)
    legal = build.user("legal.dlg", role=Role.AGENT, unit_id=unit)
    clocked.delegations.create(SYSTEM, chef, legal, agency_day, agency_day)

    assert clocked.tasks.today() == agency_day
    with clocked.reader() as uow:
        assert today_in(uow.session) == agency_day
        visibility = search_visibility(uow.session, Actor(legal, "legal.dlg", Role.AGENT, unit))
    assert visibility.delegators == {chef}
