"""Managers' dashboards: overdue tasks, deadline compliance and mail volumes, as SQL aggregates.

Every figure is one ``GROUP BY`` over the task or mail table: nothing here loads a task, an
instance or a mail as an object, so a dashboard costs the same with 10 tasks or a million.

Who sees what: administrators and auditors see every unit; a person who manages a unit sees
that unit and the units below it; anyone else is refused (their own tasks are in their inbox).
Mail volumes also pass the mail visibility rule (`visible_mail`), so a count never includes a
mail the person could not open from the list it drills down to.

Ages of overdue tasks are counted in **working days** (the Moroccan calendar, holidays
included), like the deadlines themselves: a task due on Friday is one day late on Monday.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from ged.adapters.orm import (
    CircuitDefinition,
    CircuitInstance,
    Mail,
    MailType,
    MailUnit,
    Task,
    Unit,
    User,
)
from ged.adapters.uow import UnitOfWork
from ged.domain.calendar import WorkingCalendar
from ged.domain.errors import PermissionDenied, ValidationError
from ged.domain.model import Direction, Role
from ged.services.audit import Actor
from ged.services.circuits import working_calendar
from ged.services.permissions import unit_subtree, visible_mail

# As in the task service: written out so that SQLite uses the partial indexes on active tasks.
ACTIVE: Final[ColumnElement[bool]] = literal_column("task.state IN ('open', 'claimed')")
USER_TASK: Final = "user"
MAX_PERIOD_DAYS = 366
DEFAULT_PERIOD_WEEKS = 12
MAX_PER_PAGE = 200
NO_UNIT = 0  # the drill-down's "unit" for tasks that belong to no unit


class AgeBucket(enum.IntEnum):
    """How late an overdue task is, in working days after its due date."""

    UP_TO_3 = 1
    UP_TO_7 = 2
    UP_TO_15 = 3
    OVER_15 = 4

    @property
    def label(self) -> str:
        return {
            1: "1 à 3 jours ouvrés",
            2: "4 à 7 jours ouvrés",
            3: "8 à 15 jours ouvrés",
            4: "Plus de 15 jours ouvrés",
        }[self.value]

    @property
    def more_than(self) -> int:
        """Late by more than this many working days (the bucket's lower bound, exclusive)."""
        return {1: 0, 2: 3, 3: 7, 4: 15}[self.value]


class TaskList(enum.StrEnum):
    """The lists behind the figures."""

    OVERDUE = "overdue"  # active and past its deadline now
    ON_TIME = "on_time"  # done in the period, before its deadline
    LATE = "late"  # done in the period, after its deadline
    OPEN_LATE = "open_late"  # due in the period, past its deadline now and still not done

    @property
    def label(self) -> str:
        return {
            "overdue": "Tâches en retard",
            "on_time": "Tâches traitées dans les délais",
            "late": "Tâches traitées en retard",
            "open_late": "Tâches échues non traitées",
        }[self.value]


@dataclass(frozen=True)
class Period:
    """From one agency day to another, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Scope:
    """The units a dashboard covers: None for every unit."""

    units: frozenset[int] | None
    roots: tuple[int, ...] = ()  # the units the person manages (each with its subtree)

    def allows(self, unit_id: int | None) -> bool:
        return self.units is None or (unit_id is not None and unit_id in self.units)


@dataclass(frozen=True)
class CountRow:
    """One bar: a label, a count, and the filter of the list behind it."""

    key: str
    label: str
    count: int


@dataclass(frozen=True)
class ComplianceRow:
    key: str
    label: str
    on_time: int
    late: int
    open_late: int

    @property
    def total(self) -> int:
        return self.on_time + self.late + self.open_late

    @property
    def rate(self) -> float | None:
        """Share of the period's deadlines met, in %; None when none fell in the period."""
        return None if not self.total else round(100 * self.on_time / self.total, 1)


@dataclass(frozen=True)
class WeekVolume:
    monday: dt.date
    incoming: int
    outgoing: int
    internal: int

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)


@dataclass(frozen=True)
class Overview:
    scope_label: str
    overdue_total: int
    by_unit: tuple[CountRow, ...]
    by_step: tuple[CountRow, ...]
    by_age: tuple[CountRow, ...]


@dataclass(frozen=True)
class TaskQuery:
    """The filter of a drill-down list (each field narrows it)."""

    list: TaskList = TaskList.OVERDUE
    unit_id: int | None = None  # NO_UNIT: tasks of no unit
    step: str = ""  # "<process id>/<bpmn id>"
    age: AgeBucket | None = None
    mail_type_id: int | None = None  # NO_UNIT: tasks of no mail type
    period: Period | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class TaskLine:
    id: int
    name: str
    mail_id: int | None
    chrono: str | None
    subject: str  # empty for a confidential mail
    document_id: int | None
    unit_label: str
    assignee_name: str | None
    due_at: dt.datetime | None
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class TaskLines:
    rows: tuple[TaskLine, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def nth_working_day_back(calendar: WorkingCalendar, today: dt.date, n: int) -> dt.date:
    """The n-th working day (n >= 1) counting back from `today`, today included if it works."""
    day = today
    found = 0
    while True:
        if calendar.is_working_day(day):
            found += 1
            if found >= n:
                return day
        day -= dt.timedelta(days=1)


class Dashboards:
    def __init__(
        self,
        reader: Callable[[], UnitOfWork],
        timezone: str,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._reader = reader
        self._tz = ZoneInfo(timezone)
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # -- Time and permission -----------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self._clock()

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or self.now()).astimezone(self._tz).date()

    def default_period(self, now: dt.datetime | None = None) -> Period:
        """The last twelve weeks, from a Monday to today."""
        today = self.today(now)
        monday = today - dt.timedelta(days=today.weekday())
        return Period(monday - dt.timedelta(weeks=DEFAULT_PERIOD_WEEKS - 1), today)

    @staticmethod
    def check_period(start: dt.date, end: dt.date) -> Period:
        if end < start:
            raise ValidationError("La fin de la période précède son début.", "to")
        period = Period(start, end)
        if period.days > MAX_PERIOD_DAYS:
            raise ValidationError(
                "Choisissez une période de %(days)s jours au plus.", "from", days=MAX_PERIOD_DAYS
            )
        return period

    def may_see(self, actor: Actor) -> bool:
        """Whether the actor has a dashboard at all (for the navigation)."""
        try:
            with self._reader() as uow:
                self._scope(uow.session, actor)
        except PermissionDenied:
            return False
        return True

    @staticmethod
    def _scope(session: Session, actor: Actor) -> Scope:
        if actor.user_id is None or actor.role in (Role.ADMIN, Role.AUDITOR):
            return Scope(None)
        roots = tuple(
            session.execute(
                select(Unit.id).where(Unit.manager_id == actor.user_id).order_by(Unit.id)
            ).scalars()
        )
        subtrees = {root: unit_subtree(session, root) for root in roots}
        units: set[int] = set().union(*subtrees.values())
        # A unit managed inside another managed unit's subtree adds nothing to the scope.
        roots = tuple(
            root
            for root in roots
            if not any(root in tree for other, tree in subtrees.items() if other != root)
        )
        if not units:
            raise PermissionDenied(
                "Les tableaux de bord sont réservés aux responsables d'entité, aux "
                "administrateurs et aux auditeurs."
            )
        return Scope(frozenset(units), roots)

    @staticmethod
    def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
        if scope.units is None:
            return []
        return [Task.unit_id.in_(sorted(scope.units))]

    def _moment(self, day: dt.date) -> dt.datetime:
        """The start of an agency day, as an aware moment."""
        return dt.datetime.combine(day, dt.time(0), tzinfo=self._tz)

    def _age_cuts(self, session: Session, today: dt.date) -> list[tuple[AgeBucket, dt.datetime]]:
        """For each bucket past the first, the latest deadline moment of a task that old.

        A task is late by more than k working days when its due date comes before the
        (k+1)-th working day counting back from today; its deadline moment (the start of the
        day after its due date) is then at most the start of that working day.
        """
        calendar = working_calendar(session)
        return [
            (bucket, self._moment(nth_working_day_back(calendar, today, bucket.more_than + 1)))
            for bucket in (AgeBucket.OVER_15, AgeBucket.UP_TO_15, AgeBucket.UP_TO_7)
        ]

    def _age_expression(self, session: Session, today: dt.date) -> Any:
        return case(
            *((Task.due_at <= cut, bucket.value) for bucket, cut in self._age_cuts(session, today)),
            else_=AgeBucket.UP_TO_3.value,
        )

    # -- Overdue tasks ----------------------------------------------------------------------------

    def overview(self, actor: Actor, now: dt.datetime | None = None) -> Overview:
        """Tasks past their deadline now: by unit, by circuit step and by age."""
        now = now or self.now()
        with self._reader() as uow:
            session = uow.session
            scope = self._scope(session, actor)
            overdue = [
                ACTIVE,
                Task.kind == USER_TASK,
                Task.due_at < now,
                *self._in_scope(scope),
            ]
            by_unit = session.execute(
                select(Task.unit_id, Unit.code, Unit.name, func.count())
                .select_from(Task)
                .outerjoin(Unit, Unit.id == Task.unit_id)
                .where(*overdue)
                .group_by(Task.unit_id, Unit.code, Unit.name)
            ).all()
            by_step = session.execute(
                select(
                    CircuitDefinition.process_id,
                    Task.bpmn_id,
                    func.max(Task.name),
                    func.max(CircuitDefinition.name),
                    func.count(),
                )
                .select_from(Task)
                .join(CircuitInstance, CircuitInstance.id == Task.instance_id)
                .join(CircuitDefinition, CircuitDefinition.id == CircuitInstance.definition_id)
                .where(*overdue)
                .group_by(CircuitDefinition.process_id, Task.bpmn_id)
            ).all()
            age = self._age_expression(session, self.today(now)).label("age")
            by_age: dict[int, int] = dict(
                session.execute(
                    select(age, func.count()).select_from(Task).where(*overdue).group_by(age)
                ).all()
            )
            scope_label = self._scope_label(session, scope)
        unit_rows = sorted(
            (
                CountRow(
                    str(unit_id if unit_id is not None else NO_UNIT),
                    f"{code} · {name}" if code else "Sans entité",
                    count,
                )
                for unit_id, code, name, count in by_unit
            ),
            key=lambda row: (-row.count, row.label),
        )
        step_rows = sorted(
            (
                CountRow(f"{process}/{bpmn}", f"{task_name} ({circuit})", count)
                for process, bpmn, task_name, circuit, count in by_step
            ),
            key=lambda row: (-row.count, row.label),
        )
        age_rows = [CountRow(str(b.value), b.label, int(by_age.get(b.value, 0))) for b in AgeBucket]
        return Overview(
            scope_label=scope_label,
            overdue_total=sum(row.count for row in unit_rows),
            by_unit=tuple(unit_rows),
            by_step=tuple(step_rows),
            by_age=tuple(age_rows),
        )

    @staticmethod
    def _scope_label(session: Session, scope: Scope) -> str:
        if scope.units is None:
            return "Toute l'agence"
        names = session.execute(
            select(Unit.code).where(Unit.id.in_(sorted(scope.units))).order_by(Unit.code)
        ).scalars()
        return ", ".join(names)

    # -- Deadline compliance ----------------------------------------------------------------------

    def _compliance_conditions(
        self, period: Period, now: dt.datetime
    ) -> tuple[ColumnElement[bool], Any, Any, Any]:
        """The tasks a period judges, and the three sums that classify them.

        Done in the period (with a deadline): on time if completed before its deadline moment,
        late otherwise. Active, due in the period and past due now: late and still open, so a
        unit does not look punctual by leaving its late work undone.
        """
        start, end = self._moment(period.start), self._moment(period.end + dt.timedelta(days=1))
        done = and_(
            Task.state == "done",
            Task.completed_at >= start,
            Task.completed_at < end,
        )
        open_late = and_(ACTIVE, Task.due_at >= start, Task.due_at < end, Task.due_at < now)
        judged = and_(Task.kind == USER_TASK, Task.due_at.is_not(None), or_(done, open_late))
        on_time = func.sum(case((and_(done, Task.completed_at < Task.due_at), 1), else_=0))
        late = func.sum(case((and_(done, Task.completed_at >= Task.due_at), 1), else_=0))
        still_open = func.sum(case((open_late, 1), else_=0))
        return judged, on_time, late, still_open

    def compliance_by_unit(
        self, actor: Actor, period: Period, now: dt.datetime | None = None
    ) -> tuple[ComplianceRow, ...]:
        now = now or self.now()
        with self._reader() as uow:
            session = uow.session
            scope = self._scope(session, actor)
            judged, on_time, late, still_open = self._compliance_conditions(period, now)
            rows = session.execute(
                select(Task.unit_id, Unit.code, Unit.name, on_time, late, still_open)
                .select_from(Task)
                .outerjoin(Unit, Unit.id == Task.unit_id)
                .where(judged, *self._in_scope(scope))
                .group_by(Task.unit_id, Unit.code, Unit.name)
            ).all()
        return tuple(
            sorted(
                (
                    ComplianceRow(
                        str(unit_id if unit_id is not None else NO_UNIT),
                        f"{code} · {name}" if code else "Sans entité",
                        int(a or 0),
                        int(b or 0),
                        int(c or 0),
                    )
                    for unit_id, code, name, a, b, c in rows
                ),
                key=lambda row: row.label,
            )
        )

    def compliance_by_mail_type(
        self, actor: Actor, period: Period, now: dt.datetime | None = None
    ) -> tuple[ComplianceRow, ...]:
        now = now or self.now()
        with self._reader() as uow:
            session = uow.session
            scope = self._scope(session, actor)
            judged, on_time, late, still_open = self._compliance_conditions(period, now)
            rows = session.execute(
                select(Mail.mail_type_id, MailType.name, on_time, late, still_open)
                .select_from(Task)
                .join(Mail, Mail.id == Task.mail_id)
                .outerjoin(MailType, MailType.id == Mail.mail_type_id)
                .where(judged, *self._in_scope(scope))
                .group_by(Mail.mail_type_id, MailType.name)
            ).all()
        return tuple(
            sorted(
                (
                    ComplianceRow(
                        str(type_id if type_id is not None else NO_UNIT),
                        name or "Sans type",
                        int(a or 0),
                        int(b or 0),
                        int(c or 0),
                    )
                    for type_id, name, a, b, c in rows
                ),
                key=lambda row: row.label,
            )
        )

    # -- Mail volumes -----------------------------------------------------------------------------

    def volumes(self, actor: Actor, period: Period) -> tuple[WeekVolume, ...]:
        """Mails registered per week (by mail date), incoming, outgoing and internal.

        SQL counts per day and direction (a few hundred rows at most for a year); the days are
        added up into weeks here, because week arithmetic differs between SQLite and PostgreSQL.
        """
        with self._reader() as uow:
            session = uow.session
            scope = self._scope(session, actor)
            conditions: list[ColumnElement[bool]] = [
                visible_mail(session, actor),
                Mail.mail_date >= period.start,
                Mail.mail_date <= period.end,
            ]
            if scope.units is not None:
                conditions.append(
                    Mail.id.in_(
                        select(MailUnit.mail_id).where(MailUnit.unit_id.in_(sorted(scope.units)))
                    )
                )
            rows = session.execute(
                select(Mail.mail_date, Mail.direction, func.count())
                .where(*conditions)
                .group_by(Mail.mail_date, Mail.direction)
            ).all()
        first = period.start - dt.timedelta(days=period.start.weekday())
        weeks: dict[dt.date, dict[str, int]] = {}
        monday = first
        while monday <= period.end:
            weeks[monday] = {d.value: 0 for d in Direction}
            monday += dt.timedelta(weeks=1)
        for day, direction, count in rows:
            week = day - dt.timedelta(days=day.weekday())
            weeks[week][direction] += int(count)
        return tuple(
            WeekVolume(
                monday,
                counts[Direction.INCOMING.value],
                counts[Direction.OUTGOING.value],
                counts[Direction.INTERNAL.value],
            )
            for monday, counts in weeks.items()
        )

    # -- The lists behind the figures ---------------------------------------------------------------

    def tasks(self, actor: Actor, query: TaskQuery, now: dt.datetime | None = None) -> TaskLines:
        """The tasks behind a bar, a row or a cell: the same conditions as its figure."""
        now = now or self.now()
        page = max(1, query.page)
        per_page = min(max(1, query.per_page), MAX_PER_PAGE)
        with self._reader() as uow:
            session = uow.session
            scope = self._scope(session, actor)
            conditions: list[ColumnElement[bool]] = [Task.kind == USER_TASK]
            conditions.extend(self._in_scope(scope))
            if query.list is TaskList.OVERDUE:
                conditions += [ACTIVE, Task.due_at < now]
            else:
                period = query.period or self.default_period(now)
                judged, *_ = self._compliance_conditions(period, now)
                start = self._moment(period.start)
                end = self._moment(period.end + dt.timedelta(days=1))
                done = and_(
                    Task.state == "done", Task.completed_at >= start, Task.completed_at < end
                )
                conditions.append(judged)
                conditions.append(
                    {
                        TaskList.ON_TIME: and_(done, Task.completed_at < Task.due_at),
                        TaskList.LATE: and_(done, Task.completed_at >= Task.due_at),
                        TaskList.OPEN_LATE: ACTIVE,
                    }[query.list]
                )
            if query.unit_id is not None:
                if query.unit_id == NO_UNIT:
                    conditions.append(Task.unit_id.is_(None))
                elif not scope.allows(query.unit_id):
                    raise PermissionDenied("Vous ne gérez pas cette entité.")
                else:
                    conditions.append(Task.unit_id == query.unit_id)
            if query.step:
                process, _, bpmn = query.step.partition("/")
                conditions.append(Task.bpmn_id == bpmn)
                conditions.append(
                    Task.instance_id.in_(
                        select(CircuitInstance.id)
                        .join(
                            CircuitDefinition,
                            CircuitDefinition.id == CircuitInstance.definition_id,
                        )
                        .where(CircuitDefinition.process_id == process)
                    )
                )
            if query.age is not None:
                age = self._age_expression(session, self.today(now))
                conditions.append(age == query.age.value)
            if query.mail_type_id is not None:
                typed = (
                    Mail.mail_type_id.is_(None)
                    if query.mail_type_id == NO_UNIT
                    else Mail.mail_type_id == query.mail_type_id
                )
                conditions.append(Task.mail_id.in_(select(Mail.id).where(typed)))
            total = session.execute(
                select(func.count()).select_from(Task).where(*conditions)
            ).scalar_one()
            assignee = aliased(User)
            order = (
                (Task.due_at.asc(), Task.id)
                if query.list in (TaskList.OVERDUE, TaskList.OPEN_LATE)
                else (Task.completed_at.desc(), Task.id)
            )
            rows = session.execute(
                select(
                    Task.id,
                    Task.name,
                    Task.mail_id,
                    Mail.chrono,
                    Mail.subject,
                    Mail.confidential,
                    Task.document_id,
                    Unit.code,
                    Unit.name,
                    assignee.full_name,
                    Task.due_at,
                    Task.completed_at,
                )
                .select_from(Task)
                .outerjoin(Mail, Mail.id == Task.mail_id)
                .outerjoin(Unit, Unit.id == Task.unit_id)
                .outerjoin(assignee, assignee.id == Task.assignee_id)
                .where(*conditions)
                .order_by(*order)
                .limit(per_page)
                .offset((page - 1) * per_page)
            ).all()
        return TaskLines(
            tuple(
                TaskLine(
                    id=r[0],
                    name=r[1],
                    mail_id=r[2],
                    chrono=r[3],
                    subject="" if r[5] else (r[4] or ""),
                    document_id=r[6],
                    unit_label=f"{r[7]} · {r[8]}" if r[7] else "Sans entité",
                    assignee_name=r[9],
                    due_at=r[10],
                    completed_at=r[11],
                )
                for r in rows
            ),
            int(total),
            page,
            per_page,
        )

    def scope_root(self, actor: Actor) -> int | None:
        """The one unit whose subtree the dashboards cover, for the mail list's unit filter.

        None for the whole agency, and for a person managing several separate units (the mail
        list filters on one unit; it still shows only what the person may see).
        """
        with self._reader() as uow:
            scope = self._scope(uow.session, actor)
        if scope.units is None or len(scope.roots) != 1:
            return None
        return scope.roots[0]
