"""Tasks: circuits started and moved on by people, inboxes, deadlines, escalation and delegation.

Each step is one transaction: load the instance's state, let `workflows` run the step, save the
new state with an optimistic lock (``UPDATE … WHERE lock_version = <read>``), then bring the
`task` table in line with the snapshot's ready tasks, follow the mail's status, write the audit
event and queue the e-mails. The instance update comes first on purpose: it is the one row every
step of an instance writes, so two steps racing on one instance queue there (PostgreSQL) and the
later one finds the version moved, before either has locked task rows the other might need.

Inboxes, overdue lists and counts read the `task` table (and the mail for its chrono) only.

Task states: `open` (in a pool: a unit's members or a role's holders may claim it), `claimed`
(someone holds it: they claimed it or it was given to them by name), `done`, `cancelled` (the
circuit went another way, or the task it escalated was settled).
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Final
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    bindparam,
    func,
    insert,
    literal_column,
    nulls_last,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.orm.exc import StaleDataError

from ged.adapters.jobs import Jobs
from ged.adapters.orm import (
    CircuitInstance,
    Delegation,
    Document,
    Mail,
    MailDocument,
    MailUnit,
    Task,
    TaskAttachment,
    Unit,
    User,
)
from ged.adapters.prepared import Prepared
from ged.adapters.storage import StoredFile
from ged.adapters.uow import UnitOfWork
from ged.config import CircuitSettings
from ged.domain.errors import (
    Conflict,
    Label,
    Message,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from ged.domain.model import AuditAction, MailStatus, Role
from ged.jobs import INDEX_DOCUMENT, INDEX_MAIL
from ged.services import emails
from ged.services.audit import Actor, record
from ged.services.circuits import BindingKind, Circuits, DeployedCircuit, working_calendar
from ged.services.documents import DocumentData, Documents, IncomingFile
from ged.services.notifications import (
    NotificationKind,
    Outbox,
    OutboxReport,
    TaskNotice,
    notify,
    object_link,
)
from ged.services.permissions import unit_subtree, visible_document, visible_mail
from ged.services.uploads import Upload, check_upload
from workflows.errors import CircuitError, InvalidTaskData, TaskNotReady
from workflows.model import Outcome, ReadyTask, Snapshot

logger = logging.getLogger(__name__)

# Qualified and written out: SQLite uses a partial index only for a condition it can match with
# the index's own (same column, same constants, no bound parameters).
# Untyped on purpose: a Boolean literal would render as `(…) = 1` on SQLite, which no index matches.
ACTIVE: Final[ColumnElement[bool]] = literal_column("task.state IN ('open', 'claimed')")
OPEN: Final[ColumnElement[bool]] = literal_column("task.state = 'open'")
# The tables themselves, for the Core statements of the hot path.
TASKS: Final = Task.metadata.tables["task"]
INSTANCES: Final = CircuitInstance.metadata.tables["circuit_instance"]
MAILS: Final = Mail.metadata.tables["mail"]
UNITS: Final = Unit.metadata.tables["unit"]
USERS: Final = User.metadata.tables["users"]
MAIL_UNITS: Final = MailUnit.metadata.tables["mail_unit"]
DELEGATIONS: Final = Delegation.metadata.tables["delegation"]
MAX_COMMENT = 5000
MAX_ATTACHMENTS = 10
MAX_PER_PAGE = 200
COUNT_CAP = 10_000
MAX_RECIPIENTS = 50
STEP_ATTEMPTS = 3
RETRY_WAKE = dt.timedelta(hours=1)
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
# Set by ged when an instance starts; a form may not overwrite them (mass assignment).
RESERVED_VARIABLES = frozenset(
    {"mail_id", "document_id", "chrono", "direction", "priority", "initiator", "outcome"}
)


class TaskState(enum.StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "open": "À prendre",
            "claimed": "En cours",
            "done": "Terminée",
            "cancelled": "Annulée",
        }[self.value]

    @property
    def active(self) -> bool:
        return self in (TaskState.OPEN, TaskState.CLAIMED)


class TaskKind(enum.StrEnum):
    USER = "user"  # a user task of the circuit
    ESCALATION = "escalation"  # given to a manager when a task passed its deadline


ESCALATION_OUTCOMES = (Outcome("acknowledge"),)
OUTCOME_LABELS: Mapping[str, str] = {
    "acknowledge": "Pris en compte",
    "answer": "Répondre",
    "approve": "Approuver",
    "close": "Clôturer sans réponse",
    "consult": "Demander des avis",
    "dispatch": "Dispatcher",
    "file": "Classer sans suite",
    "opinion": "Donner un avis",
    "register": "Enregistrer",
    "reject": "Rejeter",
    "resubmit": "Soumettre une nouvelle version",
    "return": "Retourner pour correction",
    "sign": "Signer",
    "submit": "Soumettre",
    "withdraw": "Retirer",
}


# -- The statements of a step, built once -----------------------------------------------------------
# A step runs about ten statements. Building one with `select()`/`update()` and coercing its
# columns costs several times more than running it on SQLite (about 150 µs against 30 on the
# benchmark machine), so the hot path executes these prebuilt Core statements with bound values.
# `tests/integration/circuits/test_step_statements.py` pins how many run per step.

# The task, its instance and its mail's status in one statement.
_STEP_TASK: Final = Prepared(
    select(
        *TASKS.c,
        INSTANCES.c.definition_id,
        INSTANCES.c.state.label("instance_state"),
        INSTANCES.c.lock_version.label("instance_lock_version"),
        INSTANCES.c.started_by_id,
        MAILS.c.status.label("mail_status"),
        MAILS.c.chrono,
        MAILS.c.subject,
        MAILS.c.confidential,
    )
    .select_from(TASKS)
    .join(INSTANCES, INSTANCES.c.id == TASKS.c.instance_id)
    .outerjoin(MAILS, MAILS.c.id == TASKS.c.mail_id)
    .where(TASKS.c.id == bindparam("task_id"))
)
_TASK_COLUMNS: Final = tuple(column.key for column in TASKS.c)


@dataclass(slots=True)
class StepTask:
    """A task row as a step reads it: its columns, without an ORM object to load and track.

    The step changes the row with its own statements (`_mark_done`) and keeps this copy true.
    """

    id: int
    instance_id: int
    mail_id: int | None
    document_id: int | None
    kind: str
    engine_task_id: str | None
    bpmn_id: str
    name: str
    lane: str
    unit_id: int | None
    candidate_unit_id: int | None
    candidate_role: str | None
    candidate_user_id: int | None
    assignee_id: int | None
    escalated_task_id: int | None
    form_data: dict[str, Any]
    due_at: dt.datetime | None
    reminded_at: dt.datetime | None
    escalated_at: dt.datetime | None
    state: str
    lock_version: int
    outcome: str | None
    comment: str
    completed_by_id: int | None
    completed_at: dt.datetime | None
    created_at: dt.datetime


if tuple(field.name for field in fields(StepTask)) != _TASK_COLUMNS:
    raise TypeError("StepTask must list the task table's columns in their order")

# A task as the permission checks read it: a step's row, or the ORM object elsewhere.
TaskLike = Task | StepTask


# Done, if nobody changed the row since it was read (the ORM's version check, by hand).
_COMPLETE_TASK: Final = Prepared(
    update(TASKS)
    .where(TASKS.c.id == bindparam("b_id"), TASKS.c.lock_version == bindparam("b_version"), ACTIVE)
    .values(
        state="done",
        outcome=bindparam("b_outcome"),
        comment=bindparam("b_comment"),
        completed_by_id=bindparam("b_actor"),
        completed_at=bindparam("b_now"),
        assignee_id=func.coalesce(TASKS.c.assignee_id, bindparam("b_actor")),
        lock_version=TASKS.c.lock_version + 1,
    )
)
_SAVE: Final = (
    update(INSTANCES)
    .where(INSTANCES.c.id == bindparam("b_id"), INSTANCES.c.lock_version == bindparam("b_version"))
    .values(
        state=bindparam("b_state"),
        lock_version=bindparam("b_next_version"),
        next_wakeup_at=bindparam("b_wakeup"),
        end_events=bindparam("b_end_events"),
        updated_at=bindparam("b_now"),
    )
)
_SAVE_STATE: Final = Prepared(_SAVE)
_SAVE_FINISHED: Final = Prepared(_SAVE.values(status="finished", finished_at=bindparam("b_now")))
# All the instance's rows: the active ones to sync, and who holds or held each (see
# `_holders_moved`); an instance has a few dozen rows at most.
_INSTANCE_ROWS: Final = Prepared(
    select(
        TASKS.c.id,
        TASKS.c.kind,
        TASKS.c.engine_task_id,
        TASKS.c.bpmn_id,
        TASKS.c.name,
        TASKS.c.assignee_id,
        TASKS.c.due_at,
        TASKS.c.escalated_task_id,
        TASKS.c.state,
        TASKS.c.candidate_user_id,
        TASKS.c.completed_by_id,
        TASKS.c.candidate_unit_id,
    ).where(TASKS.c.instance_id == bindparam("instance_id"))
)
_ACTIVE_STATES: Final = frozenset({"open", "claimed"})
_CANCEL_ROWS: Final = (
    update(TASKS)
    .where(TASKS.c.id.in_(bindparam("b_ids", expanding=True)), ACTIVE)
    .values(
        state="cancelled", completed_at=bindparam("b_now"), lock_version=TASKS.c.lock_version + 1
    )
)
_REDATE_ROW: Final = Prepared(
    update(TASKS)
    .where(TASKS.c.id == bindparam("b_id"))
    .values(due_at=bindparam("b_due_at"), lock_version=TASKS.c.lock_version + 1)
)
# One row per statement: a step creates one or two tasks (a few more for parallel opinions).
_NEW_ROW_COLUMNS: Final = (
    "instance_id",
    "mail_id",
    "document_id",
    "kind",
    "engine_task_id",
    "bpmn_id",
    "name",
    "lane",
    "unit_id",
    "candidate_unit_id",
    "candidate_role",
    "candidate_user_id",
    "assignee_id",
    "escalated_task_id",
    "form_data",
    "due_at",
    "reminded_at",
    "escalated_at",
    "state",
    "lock_version",
    "outcome",
    "comment",
    "completed_by_id",
    "completed_at",
    "created_at",
)
_INSERT_ROW: Final = Prepared(
    insert(TASKS).values({name: bindparam(name) for name in _NEW_ROW_COLUMNS}).returning(TASKS.c.id)
)
_UNIT_BY_ID: Final = Prepared(
    select(UNITS.c.id).where(UNITS.c.id == bindparam("value"), UNITS.c.active.is_(True))
)
_UNIT_BY_CODE: Final = Prepared(
    select(UNITS.c.id).where(UNITS.c.code == bindparam("value"), UNITS.c.active.is_(True))
)
_TOP_UNIT: Final = Prepared(
    select(UNITS.c.id)
    .where(UNITS.c.parent_id.is_(None), UNITS.c.active.is_(True))
    .order_by(UNITS.c.id)
    .limit(1)
)
_USER_COLUMNS: Final = (
    USERS.c.id,
    USERS.c.unit_id,
    USERS.c.full_name,
    USERS.c.email,
    USERS.c.locale,
)
_HOLDER_CONDITIONS: Final = (USERS.c.active.is_(True), USERS.c.role != Role.AUDITOR.value)
_USER_BY_ID: Final = Prepared(
    select(*_USER_COLUMNS).where(USERS.c.id == bindparam("value"), *_HOLDER_CONDITIONS)
)
_USER_BY_NAME: Final = Prepared(
    select(*_USER_COLUMNS).where(USERS.c.username == bindparam("value"), *_HOLDER_CONDITIONS)
)
_UNIT_MANAGER: Final = Prepared(
    select(USERS.c.id, USERS.c.full_name, USERS.c.email, USERS.c.locale)
    .join(UNITS, UNITS.c.manager_id == USERS.c.id)
    .where(UNITS.c.id == bindparam("unit_id"), USERS.c.active.is_(True))
)
_FIRST_MAIL_UNIT: Final = Prepared(
    select(MAIL_UNITS.c.unit_id)
    .where(MAIL_UNITS.c.mail_id == bindparam("mail_id"))
    .order_by(MAIL_UNITS.c.unit_id)
    .limit(1)
)
_MAIL_LINES: Final = Prepared(
    select(MAILS.c.chrono, MAILS.c.subject, MAILS.c.confidential).where(
        MAILS.c.id == bindparam("mail_id")
    )
)
# The status moves on only from where the step expects it: a stale read changes nothing.
_MAIL_STARTED: Final = Prepared(
    update(MAILS)
    .where(MAILS.c.id == bindparam("b_id"), MAILS.c.status == "registered")
    .values(status=bindparam("b_status"), updated_at=bindparam("b_now"))
)
# A mail already answered (an outgoing mail was linked to it) stays answered.
_MAIL_ENDED: Final = Prepared(
    update(MAILS)
    .where(
        MAILS.c.id == bindparam("b_id"),
        MAILS.c.status != bindparam("b_status"),
        MAILS.c.status != "answered",
    )
    .values(status=bindparam("b_status"), updated_at=bindparam("b_now"))
)
# The mail's index entry is due again: the index sweep rewrites mail changed since it was
# indexed, so an index job lost after the commit (a crash, a power cut) is late, not lost.
_MAIL_TOUCHED: Final = Prepared(
    update(MAILS).where(MAILS.c.id == bindparam("b_id")).values(updated_at=bindparam("b_now"))
)
_MAIL_DUE_ON: Final = Prepared(
    update(MAILS)
    .where(MAILS.c.id == bindparam("b_id"))
    .values(due_on=bindparam("b_due_on"), updated_at=bindparam("b_now"))
)


# -- The inbox lists, built once --------------------------------------------------------------------
# Each list is two statements: its count (capped) and its page. The page first picks the ids of
# its rows from the list's partial index alone (a covering index: no table row is read to sort
# them), then reads those rows and their mail and holder. Reading every candidate row with its
# joins before sorting cost milliseconds on a pool of a few hundred tasks.
_ASSIGNEE: Final = USERS.alias("assignee")
_SUMMARY: Final = (
    select(
        TASKS.c.id,
        TASKS.c.lock_version,
        TASKS.c.kind,
        TASKS.c.name,
        TASKS.c.bpmn_id,
        TASKS.c.state,
        TASKS.c.mail_id,
        MAILS.c.chrono,
        MAILS.c.subject,
        MAILS.c.confidential,
        TASKS.c.document_id,
        TASKS.c.unit_id,
        TASKS.c.candidate_unit_id,
        TASKS.c.candidate_role,
        TASKS.c.assignee_id,
        _ASSIGNEE.c.full_name,
        TASKS.c.due_at,
        TASKS.c.escalated_at,
        TASKS.c.created_at,
    )
    .select_from(TASKS)
    .outerjoin(MAILS, MAILS.c.id == TASKS.c.mail_id)
    .outerjoin(_ASSIGNEE, _ASSIGNEE.c.id == TASKS.c.assignee_id)
)
_DUE_BEFORE: Final = TASKS.c.due_at < bindparam("now")
_HELD_BY: Final = TASKS.c.assignee_id == bindparam("user_id")
_HELD_BY_ANY: Final = TASKS.c.assignee_id.in_(bindparam("user_ids", expanding=True))
_IN_UNITS: Final = TASKS.c.unit_id.in_(bindparam("unit_ids", expanding=True))


@dataclass(frozen=True)
class _TaskList:
    count: Any
    page: Any


def _task_list(ids: Any, *, overdue: bool = False) -> _TaskList:
    """The count and page statements of a list whose rows' ids and deadlines `ids` selects."""
    found = ids.subquery("found")
    # Overdue rows all have a deadline; other lists put tasks without one last.
    due = found.c.due_at.asc() if overdue else nulls_last(found.c.due_at.asc())
    chosen = (
        select(found.c.id, found.c.due_at)
        .order_by(due, found.c.id)
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .subquery("chosen")
    )
    chosen_due = chosen.c.due_at.asc() if overdue else nulls_last(chosen.c.due_at.asc())
    page = _SUMMARY.join_from(TASKS, chosen, chosen.c.id == TASKS.c.id).order_by(
        chosen_due, chosen.c.id
    )
    capped = select(found.c.id).limit(COUNT_CAP + 1).subquery("capped")
    count = select(func.count()).select_from(capped)
    return _TaskList(count, page)


def _active_ids(*conditions: ColumnElement[bool]) -> Any:
    return select(TASKS.c.id, TASKS.c.due_at).where(ACTIVE, *conditions)


# One branch per pool, the state repeated in each, so that each reads its own partial index.
_POOL_IDS: Final = union(
    select(TASKS.c.id, TASKS.c.due_at).where(OPEN, TASKS.c.candidate_unit_id == bindparam("unit")),
    select(TASKS.c.id, TASKS.c.due_at).where(OPEN, TASKS.c.candidate_role == bindparam("role")),
)
_MINE: Final = _task_list(_active_ids(_HELD_BY))
_MINE_OVERDUE: Final = _task_list(_active_ids(_HELD_BY, _DUE_BEFORE))
_POOL: Final = _task_list(_POOL_IDS)
_DELEGATED: Final = _task_list(_active_ids(_HELD_BY_ANY))
_OVERDUE_IN_UNITS: Final = _task_list(_active_ids(_DUE_BEFORE, _IN_UNITS), overdue=True)
_OVERDUE_ALL: Final = _task_list(_active_ids(_DUE_BEFORE), overdue=True)
_UNIT_TREE: Final = select(UNITS.c.id, UNITS.c.parent_id, UNITS.c.manager_id)
_DELEGATORS: Final = select(DELEGATIONS.c.from_user_id).where(
    DELEGATIONS.c.to_user_id == bindparam("user_id"),
    DELEGATIONS.c.starts_on <= bindparam("today"),
    DELEGATIONS.c.ends_on >= bindparam("today"),
    DELEGATIONS.c.ended_at.is_(None),
)


# -- Values handed to the web layer ----------------------------------------------------------------


@dataclass(frozen=True)
class TaskSummary:
    """One line of an inbox. `version` goes back with a form, so a stale form is refused."""

    id: int
    version: int
    kind: TaskKind
    name: str
    bpmn_id: str
    state: TaskState
    mail_id: int | None
    mail_chrono: str | None
    # Empty for confidential mail: an inbox line is no place for its subject.
    mail_subject: str
    confidential: bool
    document_id: int | None
    unit_id: int | None
    candidate_unit_id: int | None
    candidate_role: str | None
    assignee_id: int | None
    assignee_name: str | None
    due_at: dt.datetime | None
    overdue: bool
    escalated: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class TaskPage:
    """A page of tasks. Counting stops at `COUNT_CAP`: past it, `total` is the cap and
    `total_capped` is set (show "10 000+"): counting every late task of an agency would cost
    more than the page itself."""

    rows: tuple[TaskSummary, ...]
    total: int
    page: int
    per_page: int
    total_capped: bool = False

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class InboxCounts:
    """Inbox badges; each count stops at `COUNT_CAP` (a value equal to it means "at least")."""

    mine: int  # held by me
    pool: int  # open in my unit's or my role's pool
    delegated: int  # held by people who delegated to me today
    overdue_mine: int
    overdue_managed: int  # overdue in the units I manage (and below); 0 for others


@dataclass(frozen=True)
class UnitOverdue:
    unit_id: int | None
    unit_code: str
    unit_name: str
    count: int


@dataclass(frozen=True)
class OutcomeChoice:
    name: str
    label: str
    requires: tuple[str, ...]


@dataclass(frozen=True)
class TaskDetail:
    task: TaskSummary
    lane: str
    documentation: str | None
    outcomes: tuple[OutcomeChoice, ...]
    # What the form starts from: the values its outcomes need, as the circuit holds them now.
    form_data: Mapping[str, Any]
    outcome: str | None
    comment: str
    completed_by_name: str | None
    completed_at: dt.datetime | None
    attachment_ids: tuple[int, ...]
    escalated_task_id: int | None
    can_complete: bool
    can_claim: bool
    can_release: bool
    can_reassign: bool


@dataclass(frozen=True)
class TaskHistoryEntry:
    id: int
    kind: TaskKind
    bpmn_id: str
    name: str
    state: TaskState
    assignee_name: str | None
    completed_by_name: str | None
    created_at: dt.datetime
    due_at: dt.datetime | None
    completed_at: dt.datetime | None
    outcome: str | None
    comment: str


@dataclass(frozen=True)
class CircuitProgress:
    """An instance as the mail page draws it: the definition, what is done and what is current."""

    instance_id: int
    process_id: str
    version: int
    name: str
    finished: bool
    end_events: tuple[str, ...]
    bpmn: bytes
    done: tuple[str, ...]  # bpmn ids completed at least once
    current: tuple[str, ...]  # bpmn ids of the tasks waiting now
    steps: tuple[TaskHistoryEntry, ...]


@dataclass(frozen=True)
class StepResult:
    task_id: int
    outcome: str
    created_task_ids: tuple[int, ...]
    finished: bool
    end_events: tuple[str, ...]
    mail_status: str | None  # the mail's new status, when this step changed it


@dataclass(frozen=True)
class SweepReport:
    woken: int = 0
    escalated: int = 0
    reminded: int = 0
    emails: OutboxReport = field(default_factory=OutboxReport)


@dataclass(frozen=True)
class DelegationView:
    id: int
    from_user_id: int
    from_name: str
    to_user_id: int
    to_name: str
    starts_on: dt.date
    ends_on: dt.date
    reason: str
    ended_at: dt.datetime | None
    active: bool


# -- Internals -------------------------------------------------------------------------------------


class _InstanceMoved(Exception):
    """Another step saved the instance between our read and our write."""


class _Unresolved(Exception):
    def __init__(self, message: str, strict: bool) -> None:
        super().__init__(message)
        self.message = message
        self.strict = strict


@dataclass
class _Context:
    instance_id: int
    mail_id: int | None
    document_id: int | None
    started_by_id: int | None
    deployed: DeployedCircuit
    # Completing: a value someone typed that names nobody refuses the step instead of falling back.
    strict: bool = False
    # Name, e-mail and language of the people resolved as holders in this step, by user id.
    people: dict[int, emails.Recipient] = field(default_factory=dict)
    # The mail as notifications name it, when the step read the mail already.
    mail: emails.MailRef | None = None
    # The item's index entry is rewritten after the commit (once, whatever changed it).
    reindex_queued: bool = False
    _first_unit: int | None = None
    _first_unit_loaded: bool = False

    def first_mail_unit(self, session: Session) -> int | None:
        if not self._first_unit_loaded:
            self._first_unit_loaded = True
            if self.mail_id is not None:
                self._first_unit = _FIRST_MAIL_UNIT.run(
                    session, {"mail_id": self.mail_id}
                ).scalar_one_or_none()
        return self._first_unit

    @property
    def audit_object(self) -> tuple[str, int]:
        if self.mail_id is not None:
            return "mail", self.mail_id
        return "document", self.document_id or 0


@dataclass(frozen=True)
class _Holders:
    unit_id: int | None = None  # the unit answerable for the task
    pool_unit_id: int | None = None
    role: str | None = None
    user_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class _Row:
    """An active task row, as a step's sync reads and writes it."""

    id: int
    kind: str
    engine_task_id: str | None
    bpmn_id: str
    name: str
    assignee_id: int | None
    due_at: dt.datetime | None
    escalated_task_id: int | None


@dataclass
class _Synced:
    created: list[_Row] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def deadline_at(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """A due date as the timer's absolute moment: the start of the next day, agency time.

    The same rule as the registry's "overdue": a task due on the 1st is overdue on the 2nd. The
    timer gets this moment, not a duration: the working days were counted once, here, on the
    calendar of the day the deadline was set, and a task redone after a return keeps it.
    """
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


def due_date(due_at: dt.datetime, tz: dt.tzinfo) -> dt.date:
    """The last day of a deadline made by `deadline_at` (the day before its moment)."""
    return (due_at.astimezone(tz) - dt.timedelta(microseconds=1)).date()


_HeldBy = tuple[int | None, int | None, int | None, int | None]


def _holder_sets(rows: Iterable[_HeldBy]) -> tuple[set[int], set[int], set[int]]:
    """Assignees, named or finishing people, and pool units: the index's task holders (see
    `ged.services.search`), from (assignee, named candidate, completed by, pool unit) values."""
    assignees: set[int] = set()
    users: set[int] = set()
    units: set[int] = set()
    for assignee, candidate, completer, unit in rows:
        if assignee is not None:
            assignees.add(assignee)
        if candidate is not None:
            users.add(candidate)
        if completer is not None:
            users.add(completer)
        if unit is not None:
            units.add(unit)
    return assignees, users, units


def _holders_moved(
    rows: Sequence[Any],
    created: Sequence[Mapping[str, Any]],
    completed: StepTask | None,
    held: _HeldBy | None,
) -> bool:
    """Whether a step changed who holds or held a task of the instance, as the item's search
    index entry lists them: most steps do not (the next task goes to a pool or a person
    already there), and rewriting the entry costs more than the rest of the step.

    `rows`: the instance's rows, read after the completed one was closed; `created`: the values
    of the rows the step inserts; `held`: the completed row's holders before the step. Rows
    of the item's other instances are not looked at: a holder found only there counts as new,
    which rewrites the entry for nothing but never misses a change.
    """
    if completed is not None and held is None:
        return True
    now_held: list[_HeldBy] = [
        (row.assignee_id, row.candidate_user_id, row.completed_by_id, row.candidate_unit_id)
        for row in rows
    ]
    before = [
        values
        for row, values in zip(rows, now_held, strict=True)
        if completed is None or row.id != completed.id
    ]
    if held is not None:
        before.append(held)
    after = now_held + [
        (values["assignee_id"], values["candidate_user_id"], None, values["candidate_unit_id"])
        for values in created
    ]
    return _holder_sets(before) != _holder_sets(after)


def _plain_value(value: Any) -> int | str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip():
        text_value = value.strip()
        return int(text_value) if text_value.isdigit() else text_value
    return None


@dataclass(frozen=True)
class _Move:
    """A manager's move of a task, as its notices tell it: who, by name, and the mail, read once."""

    actor: Actor
    by: str
    mail: emails.MailRef | None
    now: dt.datetime


class Tasks:
    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        circuits: Circuits,
        documents: Documents,
        outbox: Outbox,
        jobs: Jobs,
        settings: CircuitSettings,
        timezone: str,
        max_file_bytes: int,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._circuits = circuits
        self._documents = documents
        self._outbox = outbox
        self._jobs = jobs
        self._settings = settings
        self._tz = ZoneInfo(timezone)
        self._max_file_bytes = max_file_bytes
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    # -- Time ------------------------------------------------------------------------------------

    def now(self) -> dt.datetime:
        return self._clock()

    def today(self, now: dt.datetime | None = None) -> dt.date:
        return (now or self.now()).astimezone(self._tz).date()

    def deadline_at(self, day: dt.date) -> dt.datetime:
        return deadline_at(day, self._tz)

    def due_date(self, due_at: dt.datetime) -> dt.date:
        return due_date(due_at, self._tz)

    def _deadline_value(self, session: Session, name: str, value: Any, now: dt.datetime) -> str:
        """A deadline variable as the BPMN timer takes it: an ISO date-time with its offset.

        Accepted: a number of working days from today, a date (YYYY-MM-DD, the end of that day),
        an ISO date-time with offset, or an ISO duration (calendar time).
        """
        today = self.today(now)
        refused = ValidationError(
            "Le délai « %(name)s » n'est pas compris : donnez un nombre de jours ouvrés, "
            "une date (AAAA-MM-JJ) ou une date et heure avec fuseau.",
            name,
            name=name,
        )
        if isinstance(value, bool):
            raise refused
        if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
            days = int(value)
            if not 0 <= days <= 365:
                raise ValidationError(
                    "Le délai « %(name)s » doit compter de 0 à 365 jours ouvrés.", name, name=name
                )
            day = working_calendar(session).add_working_days(today, days)
            return self.deadline_at(day).isoformat()
        if not isinstance(value, str):
            raise refused
        candidate = value.strip()
        if candidate[:1] in ("P", "p"):
            return candidate
        try:
            if len(candidate) == 10:
                day = dt.date.fromisoformat(candidate)
                if day < today:
                    raise ValidationError("Le délai « %(name)s » est déjà passé.", name, name=name)
                return self.deadline_at(day).isoformat()
            moment = dt.datetime.fromisoformat(candidate)
        except ValueError:
            raise refused from None
        if moment.tzinfo is None:
            raise refused
        return moment.isoformat()

    # -- Starting --------------------------------------------------------------------------------

    def start_for_mail(self, uow: UnitOfWork, actor: Actor, mail: Mail, process_id: str) -> int:
        """Start the circuit of a mail inside the registration's own transaction."""
        session = uow.session
        definition_id = self._circuits.active_definition_id(session, process_id)
        if definition_id is None:
            raise ValidationError(
                "Le circuit « %(circuit)s » de ce type de courrier n'est pas déployé : "
                "un administrateur doit le déployer (ged circuit deploy) ou changer le type.",
                circuit=process_id,
            )
        now = self.now()
        data: dict[str, Any] = {
            "mail_id": mail.id,
            "chrono": mail.chrono,
            "direction": mail.direction,
            "priority": mail.priority,
        }
        first_unit = session.execute(
            select(MailUnit.unit_id)
            .where(MailUnit.mail_id == mail.id)
            .order_by(MailUnit.unit_id)
            .limit(1)
        ).scalar_one_or_none()
        if first_unit is not None:
            data["addressed_unit"] = first_unit
        if mail.due_on is not None:
            data["processing_deadline"] = self.deadline_at(mail.due_on).isoformat()
        if actor.user_id is not None:
            data["author"] = actor.user_id
            data["initiator"] = actor.user_id
        return self._start(uow, actor, definition_id, data, now, mail_id=mail.id, document_id=None)

    def start_for_document(
        self,
        actor: Actor,
        document_id: int,
        data: Mapping[str, Any] | None = None,
        process_id: str = "document_approval",
    ) -> int:
        """Submit a document to a circuit (approval): `data` names e.g. the `reviewer`."""
        if actor.user_id is None or actor.role in (None, Role.AUDITOR):
            raise PermissionDenied("Seule une personne connectée peut soumettre un document.")
        given = dict(data or {})
        for key in given:
            if key in RESERVED_VARIABLES or key == "author" or not _VARIABLE.fullmatch(key):
                raise ValidationError(
                    "La variable « %(key)s » ne peut pas être donnée ici.", key, key=key
                )
        with self._writer() as uow:
            session = uow.session
            document = session.execute(
                select(Document).where(
                    Document.id == document_id,
                    Document.deleted_at.is_(None),
                    visible_document(session, actor),
                )
            ).scalar_one_or_none()
            if document is None:
                raise NotFound("Document introuvable.")
            running = session.execute(
                select(CircuitInstance.id).where(
                    CircuitInstance.document_id == document_id,
                    CircuitInstance.status == "running",
                )
            ).first()
            if running is not None:
                raise Conflict("Ce document est déjà dans un circuit en cours.")
            definition_id = self._circuits.active_definition_id(session, process_id)
            if definition_id is None:
                raise ValidationError(
                    "Le circuit « %(circuit)s » n'est pas déployé.", circuit=process_id
                )
            payload = {
                **given,
                "document_id": document_id,
                "author": actor.user_id,
                "initiator": actor.user_id,
            }
            instance_id = self._start(
                uow,
                actor,
                definition_id,
                payload,
                self.now(),
                mail_id=None,
                document_id=document_id,
                strict=True,
            )
            uow.commit()
            return instance_id

    def _start(
        self,
        uow: UnitOfWork,
        actor: Actor,
        definition_id: int,
        data: Mapping[str, Any],
        now: dt.datetime,
        *,
        mail_id: int | None,
        document_id: int | None,
        strict: bool = False,
    ) -> int:
        session = uow.session
        deployed = self._circuits.definition(session, definition_id)
        try:
            snapshot = self._circuits.engine.start(deployed.bpmn, data, now)
        except CircuitError as error:
            raise ValidationError(
                "Le circuit « %(circuit)s » ne démarre pas : %(error)s",
                circuit=Label(deployed.name),
                error=error,
            ) from None
        instance = CircuitInstance(
            definition_id=definition_id,
            mail_id=mail_id,
            document_id=document_id,
            state=snapshot.state,
            lock_version=1,
            status="finished" if snapshot.finished else "running",
            next_wakeup_at=None if snapshot.finished else snapshot.next_wakeup,
            end_events=list(snapshot.end_events),
            started_by_id=actor.user_id,
            started_at=now,
            updated_at=now,
            finished_at=now if snapshot.finished else None,
        )
        session.add(instance)
        session.flush()
        context = _Context(
            instance.id, mail_id, document_id, actor.user_id, deployed, strict=strict
        )
        synced = self._sync(uow, context, snapshot, now, completed=None)
        kind, object_id = context.audit_object
        record(
            session,
            actor,
            AuditAction.CIRCUIT_STARTED,
            kind,
            object_id,
            {
                "instance": instance.id,
                "process_id": deployed.process_id,
                "version": deployed.version,
                "tasks": [row.id for row in synced.created],
                **({"notes": synced.notes} if synced.notes else {}),
            },
        )
        return instance.id

    # -- Completing ------------------------------------------------------------------------------

    def complete(
        self,
        actor: Actor,
        task_id: int,
        outcome: str,
        data: Mapping[str, Any] | None = None,
        comment: str = "",
        attachments: Sequence[Upload] = (),
        expected_version: int | None = None,
    ) -> StepResult:
        """Complete a task with an outcome, its form's values, a comment and files.

        Refused, with nothing changed: an unknown task (`NotFound`), someone else's task
        (`PermissionDenied`), a task already done or cancelled, or a form older than the task
        (`Conflict`), a bad outcome or value (`ValidationError`).
        """
        comment = comment.strip()
        if len(comment) > MAX_COMMENT:
            raise ValidationError(
                "Le commentaire dépasse %(count)s caractères.", "comment", count=MAX_COMMENT
            )
        if len(attachments) > MAX_ATTACHMENTS:
            raise ValidationError(
                "%(count)s pièces jointes au plus.", "files", count=MAX_ATTACHMENTS
            )
        given = self._check_form_keys(data or {})
        files = [check_upload(upload, self._max_file_bytes) for upload in attachments]
        if files:
            with self._reader() as uow:
                # The same checks run again in the step's transaction; running them first keeps
                # a refused completion from leaving its files in the store.
                row = self._task_for_step(uow.session, actor, task_id, expected_version)
                self._check_outcome(row, self._offered(uow.session, row), outcome, given)
        stored = [self._documents.store_file(file) for file in files]
        for _attempt in range(STEP_ATTEMPTS):
            try:
                return self._complete_once(
                    actor, task_id, outcome, given, comment, files, stored, expected_version
                )
            except _InstanceMoved:
                # Another task of the same instance (a parallel opinion) was completed at the
                # same moment and ours is still to do: run the step again on the new state.
                continue
            except StaleDataError:
                # The task row itself moved (claimed, released, reassigned) since it was read.
                raise Conflict("Quelqu'un d'autre a modifié cette tâche avant vous.") from None
        raise Conflict(
            "Le circuit de ce dossier a avancé pendant votre validation : rechargez la tâche et "
            "recommencez."
        )

    def _complete_once(
        self,
        actor: Actor,
        task_id: int,
        outcome: str,
        given: Mapping[str, Any],
        comment: str,
        files: Sequence[IncomingFile],
        stored: Sequence[StoredFile],
        expected_version: int | None,
    ) -> StepResult:
        with self._writer() as uow:
            session = uow.session
            now = self.now()
            # The task, its instance and its mail's status in one statement: the hot path.
            instance = _STEP_TASK.run(session, {"task_id": task_id}).one_or_none()
            if instance is None:
                raise NotFound("Tâche introuvable.")
            row = StepTask(*instance[: len(_TASK_COLUMNS)])
            self._check_task(session, actor, row, expected_version)
            if row.kind == TaskKind.ESCALATION:
                self._check_outcome(row, ESCALATION_OUTCOMES, outcome, given)
                escalation = session.get_one(Task, row.id)
                return self._complete_escalation(uow, actor, escalation, outcome, comment, now)
            context = _Context(
                row.instance_id,
                row.mail_id,
                row.document_id,
                instance.started_by_id,
                self._circuits.definition(session, instance.definition_id),
                strict=True,
            )
            if row.mail_id is not None:
                context.mail = emails.MailRef(
                    instance.chrono, instance.subject, instance.confidential
                )
            payload = self._check_outcome(
                row, self._offered(session, row, context.deployed), outcome, given
            )
            for name, value in list(payload.items()):
                if name.endswith("_deadline"):
                    payload[name] = self._deadline_value(session, name, value, now)
            payload["outcome"] = outcome
            try:
                snapshot = self._circuits.engine.complete(
                    context.deployed.bpmn,
                    instance.instance_state,
                    row.engine_task_id or "",
                    payload,
                    now,
                )
            except TaskNotReady:
                raise Conflict(
                    "Cette tâche n'est plus à faire : elle a déjà été traitée ou annulée."
                ) from None
            except InvalidTaskData as error:
                raise ValidationError(
                    "Le circuit refuse ces données : %(error)s", error=error
                ) from None
            except CircuitError as error:
                raise ValidationError(
                    "Le circuit ne peut pas continuer : %(error)s", error=error
                ) from None
            try:
                self._save(session, row.instance_id, instance.instance_lock_version, snapshot, now)
            except _InstanceMoved:
                state = session.execute(select(Task.state).where(Task.id == row.id)).scalar_one()
                if not TaskState(state).active:
                    raise Conflict("Quelqu'un d'autre a terminé cette tâche avant vous.") from None
                raise
            held: _HeldBy = (
                row.assignee_id,
                row.candidate_user_id,
                row.completed_by_id,
                row.candidate_unit_id,
            )
            self._mark_done(session, row, actor, outcome, comment, now)
            attachment_ids = self._attach(uow, actor, row, files, stored)
            synced = self._sync(uow, context, snapshot, now, completed=row, held=held)
            status = self._follow_mail(uow, context, snapshot, now, instance.mail_status)
            dated = False
            if "processing_deadline" in payload and row.mail_id is not None:
                dated = self._follow_due_date(
                    session, row.mail_id, payload["processing_deadline"], now
                )
            if context.reindex_queued and row.mail_id is not None and not (status or dated):
                _MAIL_TOUCHED.run(session, {"b_id": row.mail_id, "b_now": now})
            kind, object_id = context.audit_object
            details: dict[str, Any] = {
                "task": row.id,
                "name": row.name,
                "outcome": outcome,
                "created": [task.id for task in synced.created],
            }
            if comment:
                details["comment"] = comment[:1000]
            if attachment_ids:
                details["attachments"] = attachment_ids
            if synced.cancelled:
                details["cancelled"] = synced.cancelled
            if status is not None:
                details["status"] = status
            if snapshot.finished:
                details["end_events"] = list(snapshot.end_events)
            if synced.notes:
                details["notes"] = synced.notes
            record(session, actor, AuditAction.TASK_COMPLETED, kind, object_id, details)
            try:
                session.flush()
            except StaleDataError:
                raise Conflict("Quelqu'un d'autre a modifié cette tâche avant vous.") from None
            uow.commit()
            return StepResult(
                task_id=row.id,
                outcome=outcome,
                created_task_ids=tuple(task.id for task in synced.created),
                finished=snapshot.finished,
                end_events=snapshot.end_events,
                mail_status=status,
            )

    @staticmethod
    def _mark_done(
        session: Session,
        row: StepTask,
        actor: Actor,
        outcome: str,
        comment: str,
        now: dt.datetime,
    ) -> None:
        """Close the completed row with one UPDATE checked on its version, as the ORM would;
        the step's copy of the row is given the new values, so it stays true."""
        done = _COMPLETE_TASK.run(
            session,
            {
                "b_id": row.id,
                "b_version": row.lock_version,
                "b_outcome": outcome,
                "b_comment": comment,
                "b_actor": actor.user_id,
                "b_now": now,
            },
        )
        if done.rowcount != 1:
            raise StaleDataError("the task row moved since it was read")
        values: dict[str, Any] = {
            "state": TaskState.DONE.value,
            "outcome": outcome,
            "comment": comment,
            "completed_by_id": actor.user_id,
            "completed_at": now,
            "lock_version": row.lock_version + 1,
        }
        if row.assignee_id is None:
            values["assignee_id"] = actor.user_id
        for name, value in values.items():
            setattr(row, name, value)

    def _complete_escalation(
        self,
        uow: UnitOfWork,
        actor: Actor,
        row: Task,
        outcome: str,
        comment: str,
        now: dt.datetime,
    ) -> StepResult:
        session = uow.session
        row.state = TaskState.DONE.value
        row.outcome = outcome
        row.comment = comment
        row.completed_by_id = actor.user_id
        row.completed_at = now
        kind, object_id = ("mail", row.mail_id) if row.mail_id else ("document", row.document_id)
        record(
            session,
            actor,
            AuditAction.TASK_COMPLETED,
            kind,
            object_id,
            {"task": row.id, "name": row.name, "outcome": outcome, "comment": comment[:1000]},
        )
        try:
            session.flush()
        except StaleDataError:
            raise Conflict("Quelqu'un d'autre a modifié cette tâche avant vous.") from None
        self._reindex_holders(uow, row.mail_id, row.document_id)
        uow.commit()
        return StepResult(row.id, outcome, (), False, (), None)

    def _check_form_keys(self, data: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            raise ValidationError("Les données du formulaire sont mal formées.")
        for key in data:
            if not isinstance(key, str) or not _VARIABLE.fullmatch(key):
                raise ValidationError("« %(key)s » n'est pas un nom de champ valide.", key=key)
            if key in RESERVED_VARIABLES or key.endswith("_outcome"):
                raise ValidationError(
                    "« %(key)s » est fixé par ged et ne peut pas être modifié.", key, key=key
                )
        return dict(data)

    def _offered(
        self, session: Session, row: TaskLike, deployed: DeployedCircuit | None = None
    ) -> tuple[Outcome, ...]:
        if row.kind == TaskKind.ESCALATION:
            return ESCALATION_OUTCOMES
        if deployed is None:
            definition_id = session.execute(
                select(CircuitInstance.definition_id).where(CircuitInstance.id == row.instance_id)
            ).scalar_one()
            deployed = self._circuits.definition(session, definition_id)
        task = deployed.circuit.user_task(row.bpmn_id)
        return task.outcomes if task is not None else ()

    @staticmethod
    def _check_outcome(
        row: TaskLike, offered: tuple[Outcome, ...], outcome: str, given: Mapping[str, Any]
    ) -> dict[str, Any]:
        """The outcome is one the task offers, with its required values; only its fields given."""
        choices = ", ".join(f"{o.name} ({OUTCOME_LABELS.get(o.name, o.name)})" for o in offered)
        chosen = next((o for o in offered if o.name == outcome), None)
        if chosen is None:
            if not outcome:
                raise ValidationError(
                    "Choisissez une suite : %(choices)s.", "outcome", choices=choices
                )
            raise ValidationError(
                "« %(outcome)s » n'est pas une suite possible de « %(step)s » : %(choices)s.",
                "outcome",
                outcome=outcome,
                step=Label(row.name),
                choices=choices,
            )
        # Only the values the task's outcomes ask for: a form cannot reroute the circuit by
        # setting another variable (mass assignment).
        fields = {name for o in offered for name in o.requires}
        extra = sorted(set(given) - fields)
        if extra:
            raise ValidationError(
                "« %(key)s » ne fait pas partie du formulaire de « %(step)s ».",
                extra[0],
                key=extra[0],
                step=Label(row.name),
            )
        merged = {**row.form_data, **given}
        missing = [name for name in chosen.requires if merged.get(name) in (None, "", [])]
        if missing:
            raise ValidationError(
                "La suite « %(outcome)s » demande : %(fields)s.",
                missing[0],
                outcome=Label(OUTCOME_LABELS.get(outcome, outcome)),
                fields=", ".join(missing),
            )
        return dict(given)

    def _task_for_step(
        self, session: Session, actor: Actor, task_id: int, expected_version: int | None
    ) -> Task:
        row = session.get(Task, task_id)
        if row is None:
            raise NotFound("Tâche introuvable.")
        self._check_task(session, actor, row, expected_version)
        return row

    def _check_task(
        self, session: Session, actor: Actor, row: TaskLike, expected_version: int | None
    ) -> None:
        """Refuse, in this order: a task the actor may not see, done, cancelled, not theirs,
        or changed since their form was made."""
        # The holder or a candidate needs no delegation: spare the query on the common path.
        direct = row.assignee_id == actor.user_id or (
            row.assignee_id is None and self._is_candidate(actor, row)
        )
        delegators = set() if direct else self._delegators(session, actor)
        if not direct and not self._may_see(session, actor, row, delegators):
            raise NotFound("Tâche introuvable.")
        state = TaskState(row.state)
        if state is TaskState.DONE:
            who = self._user_name(session, row.completed_by_id)
            when = row.completed_at.astimezone(self._tz) if row.completed_at else None
            raise Conflict(
                "Cette tâche a déjà été traitée par %(who)s le %(when)s."
                if when
                else "Cette tâche a déjà été traitée par %(who)s.",
                who=who,
                when=when,
            )
        if state is TaskState.CANCELLED:
            raise Conflict("Cette tâche a été annulée : le circuit a pris un autre chemin.")
        if not self._may_complete(actor, row, delegators):
            raise PermissionDenied("Cette tâche ne vous est pas attribuée.")
        if expected_version is not None and expected_version != row.lock_version:
            raise Conflict(
                "Cette tâche a changé depuis que vous l'avez ouverte : rechargez-la avant de "
                "la valider."
            )

    def _save(
        self,
        session: Session,
        instance_id: int,
        lock_version: int,
        snapshot: Snapshot,
        now: dt.datetime,
    ) -> None:
        """Write the new state if nobody else did since we read it (optimistic lock)."""
        result = (_SAVE_FINISHED if snapshot.finished else _SAVE_STATE).run(
            session,
            {
                "b_id": instance_id,
                "b_version": lock_version,
                "b_next_version": lock_version + 1,
                "b_state": snapshot.state,
                "b_wakeup": None if snapshot.finished else snapshot.next_wakeup,
                "b_end_events": list(snapshot.end_events),
                "b_now": now,
            },
        )
        if result.rowcount != 1:
            raise _InstanceMoved

    def _attach(
        self,
        uow: UnitOfWork,
        actor: Actor,
        row: StepTask,
        files: Sequence[IncomingFile],
        stored: Sequence[StoredFile],
    ) -> list[int]:
        if not files:
            return []
        session = uow.session
        chrono = ""
        position = 0
        if row.mail_id is not None:
            chrono = session.execute(select(Mail.chrono).where(Mail.id == row.mail_id)).scalar_one()
            last = session.execute(
                select(func.max(MailDocument.position)).where(MailDocument.mail_id == row.mail_id)
            ).scalar_one()
            position = (last if last is not None else -1) + 1
        ids = []
        for file, stored_file in zip(files, stored, strict=True):
            title = (
                f"{chrono} — {row.name} — {file.original_name}" if chrono else file.original_name
            )
            document = self._documents.create_in(
                session, actor, DocumentData(title=title[:500]), stored_file, file, actor.unit_id
            )
            if row.mail_id is not None:
                session.add(
                    MailDocument(mail_id=row.mail_id, document_id=document.id, position=position)
                )
                position += 1
            session.add(TaskAttachment(task_id=row.id, document_id=document.id))
            ids.append(document.id)
        session.flush()
        if row.mail_id is not None:
            mail_id = row.mail_id
            uow.on_commit(lambda: self._jobs.enqueue(INDEX_MAIL, mail_id))
        else:
            for document_id in ids:
                uow.on_commit(self._index_document_later(document_id))
        return ids

    def _index_document_later(self, document_id: int) -> Callable[[], None]:
        return lambda: self._jobs.enqueue(INDEX_DOCUMENT, document_id)

    def _reindex_holders(
        self, uow: UnitOfWork, mail_id: int | None, document_id: int | None, touch: bool = True
    ) -> None:
        """Whoever holds or held a task on a mail (or library document) finds it in search: its
        index entry carries them, so it is rewritten when a task is created or changes hands.

        `touch`: mark the mail changed (`_MAIL_TOUCHED`) here; a step does it once, at its end,
        unless its own update of the mail already did."""
        if mail_id is not None:
            if touch:
                _MAIL_TOUCHED.run(uow.session, {"b_id": mail_id, "b_now": uow.now()})
            uow.on_commit(lambda: self._jobs.enqueue(INDEX_MAIL, mail_id))
        elif document_id is not None:
            uow.on_commit(self._index_document_later(document_id))

    def _reindex_once(self, uow: UnitOfWork, context: _Context) -> None:
        if not context.reindex_queued:
            context.reindex_queued = True
            self._reindex_holders(uow, context.mail_id, context.document_id, touch=False)

    # -- Bringing the task table in line -------------------------------------------------------

    def _sync(
        self,
        uow: UnitOfWork,
        context: _Context,
        snapshot: Snapshot,
        now: dt.datetime,
        completed: StepTask | None,
        held: _HeldBy | None = None,
    ) -> _Synced:
        """Make the instance's active rows the snapshot's ready tasks: insert, cancel, re-date.

        Core statements on the table, not ORM objects: this runs at every step. Rows changed
        here bump `lock_version` as the ORM does, so a form opened before stays stale.
        `held`: the completed row's holders before the step (see `_holders_moved`).
        """
        session = uow.session
        synced = _Synced()
        # The completed row is already done (`_mark_done`): it is not among the active ones.
        rows = _INSTANCE_ROWS.run(session, {"instance_id": context.instance_id}).rows
        active = [found for found in rows if found.state in _ACTIVE_STATES]
        ready_ids = {task.id for task in snapshot.ready_tasks}
        closed: set[int] = {completed.id} if completed is not None else set()
        existing: dict[str, _Row] = {}
        for found in active:
            row = _Row(*found[:8])
            if row.kind != TaskKind.USER:
                continue
            if row.engine_task_id not in ready_ids:
                closed.add(row.id)
            elif row.engine_task_id is not None:
                existing[row.engine_task_id] = row
        cancelled = [
            found.id
            for found in active
            if found.id in closed
            # An escalation is settled once the late task is: nothing left to chase.
            or (found.kind == TaskKind.ESCALATION and found.escalated_task_id in closed)
        ]
        if cancelled:
            session.execute(_CANCEL_ROWS, {"b_ids": cancelled, "b_now": now})
            synced.cancelled.extend(cancelled)
        new_rows: list[dict[str, Any]] = []
        for ready in snapshot.ready_tasks:
            known = existing.get(ready.id)
            if known is None:
                new_rows.append(self._new_task(session, context, ready, now, synced))
            elif known.due_at != ready.due_at:
                _REDATE_ROW.run(session, {"b_id": known.id, "b_due_at": ready.due_at})
        if new_rows:
            ids = [_INSERT_ROW.run(session, values).scalar_one() for values in new_rows]
            for task_id, values in zip(ids, new_rows, strict=True):
                synced.created.append(
                    _Row(
                        task_id,
                        values["kind"],
                        values["engine_task_id"],
                        values["bpmn_id"],
                        values["name"],
                        values["assignee_id"],
                        values["due_at"],
                        None,
                    )
                )
        self._notify_new(uow, context, synced.created, now)
        if (new_rows or completed is not None) and _holders_moved(rows, new_rows, completed, held):
            self._reindex_once(uow, context)
        for event in snapshot.events:
            if event.kind != "escalation":
                synced.notes.append(f"événement {event.kind} « {event.name} » non traité")
                continue
            late = [
                row
                for row in (*existing.values(), *synced.created)
                if (event.task_id is not None and row.engine_task_id == event.task_id)
                or (event.task_id is None and row.bpmn_id == event.task_bpmn_id)
            ]
            for row in late:
                escalation = self._escalate(uow, row.id, now, f"escalade « {event.name} »")
                if escalation is not None:
                    synced.escalated.append(row.id)
        return synced

    def _new_task(
        self,
        session: Session,
        context: _Context,
        ready: ReadyTask,
        now: dt.datetime,
        synced: _Synced,
    ) -> dict[str, Any]:
        """The row of a task that just became ready, its holders resolved from its lane."""
        try:
            holders = self._resolve(session, context, ready)
        except _Unresolved as unresolved:
            if unresolved.strict:
                raise ValidationError(unresolved.message) from None
            holders = _Holders(role=Role.ADMIN.value, note=unresolved.message)
        if holders.note:
            synced.notes.append(f"« {ready.name} » : {holders.note}")
        form_data = {
            name: ready.data[name]
            for outcome in ready.outcomes
            for name in outcome.requires
            if name in ready.data
        }
        if ready.instance_variable is not None:
            form_data[ready.instance_variable] = ready.instance_item
        return {
            "instance_id": context.instance_id,
            "mail_id": context.mail_id,
            "document_id": context.document_id,
            "kind": TaskKind.USER.value,
            "engine_task_id": ready.id,
            "bpmn_id": ready.bpmn_id,
            "name": ready.name[:200],
            "lane": ready.lane[:100],
            "unit_id": holders.unit_id,
            "candidate_unit_id": holders.pool_unit_id,
            "candidate_role": holders.role,
            "candidate_user_id": holders.user_id,
            "assignee_id": holders.user_id,
            "escalated_task_id": None,
            "form_data": form_data,
            "due_at": ready.due_at,
            "reminded_at": None,
            "escalated_at": None,
            "state": (TaskState.CLAIMED if holders.user_id is not None else TaskState.OPEN).value,
            "lock_version": 1,
            "outcome": None,
            "comment": "",
            "completed_by_id": None,
            "completed_at": None,
            "created_at": now,
        }

    def _resolve(self, session: Session, context: _Context, ready: ReadyTask) -> _Holders:
        binding = context.deployed.bindings.get(ready.lane)
        if binding is None:
            raise _Unresolved(
                Message("le couloir « %(lane)s » n'est lié à personne", {"lane": ready.lane}), False
            )
        kind = binding.kind
        if kind is BindingKind.UNIT and binding.unit_id is not None:
            return _Holders(unit_id=binding.unit_id, pool_unit_id=binding.unit_id)
        if kind is BindingKind.UNIT_MANAGER and binding.unit_id is not None:
            return self._manager_of(session, context, binding.unit_id)
        if kind is BindingKind.TOP_UNIT_MANAGER:
            top = _TOP_UNIT.run(session).scalar_one_or_none()
            if top is None:
                raise _Unresolved("l'organigramme n'a pas encore d'entité de tête", False)
            return self._manager_of(session, context, top)
        if kind is BindingKind.ROLE:
            return _Holders(role=binding.value)
        if kind in (BindingKind.ADDRESSED_UNIT, BindingKind.ADDRESSED_UNIT_MANAGER):
            value = ready.data.get("addressed_unit")
            if _plain_value(value) is None:
                value = context.first_mail_unit(session)
            unit_id = self._find_unit(session, context, value, "addressed_unit")
            if kind is BindingKind.ADDRESSED_UNIT:
                return _Holders(unit_id=unit_id, pool_unit_id=unit_id)
            return self._manager_of(session, context, unit_id)
        if kind is BindingKind.DATA_UNIT:
            unit_id = self._find_unit(
                session, context, ready.data.get(binding.value), binding.value
            )
            return _Holders(unit_id=unit_id, pool_unit_id=unit_id)
        if kind is BindingKind.DATA_USER:
            user_id, user_unit = self._find_user(
                session, context, ready.data.get(binding.value), binding.value
            )
            return _Holders(unit_id=user_unit, user_id=user_id)
        if kind is BindingKind.INITIATOR:
            user_id, user_unit = self._find_user(
                session, context, context.started_by_id, "initiator"
            )
            return _Holders(unit_id=user_unit, user_id=user_id)
        raise _Unresolved(
            Message(
                "le couloir « %(lane)s » est mal lié (%(kind)s)", {"lane": ready.lane, "kind": kind}
            ),
            False,
        )

    def _find_unit(self, session: Session, context: _Context, value: Any, variable: str) -> int:
        plain = _plain_value(value)
        if plain is None:
            raise _Unresolved(
                Message("aucune entité dans « %(variable)s »", {"variable": variable}), False
            )
        if isinstance(plain, int):
            found = _UNIT_BY_ID.run(session, {"value": plain})
        else:
            found = _UNIT_BY_CODE.run(session, {"value": plain.upper()})
        unit_id: int | None = found.scalar_one_or_none()
        if unit_id is None:
            raise _Unresolved(
                Message(
                    "L'entité « %(unit)s » indiquée dans « %(variable)s » n'existe pas.",
                    {"unit": plain, "variable": variable},
                ),
                context.strict,
            )
        return unit_id

    def _find_user(
        self, session: Session, context: _Context, value: Any, variable: str
    ) -> tuple[int, int | None]:
        plain = _plain_value(value)
        if plain is None:
            raise _Unresolved(
                Message("personne n'est désigné dans « %(variable)s »", {"variable": variable}),
                False,
            )
        if isinstance(plain, int):
            found = _USER_BY_ID.run(session, {"value": plain}).one_or_none()
        else:
            found = _USER_BY_NAME.run(session, {"value": plain.lower()}).one_or_none()
        if found is None:
            raise _Unresolved(
                Message(
                    "La personne « %(person)s » indiquée dans « %(variable)s » n'existe pas ou "
                    "ne peut pas recevoir de tâche.",
                    {"person": plain, "variable": variable},
                ),
                context.strict,
            )
        context.people[found.id] = emails.Recipient(found.full_name, found.email, found.locale)
        return found.id, found.unit_id

    @staticmethod
    def _manager_of(session: Session, context: _Context, unit_id: int) -> _Holders:
        manager = _UNIT_MANAGER.run(session, {"unit_id": unit_id}).one_or_none()
        if manager is None:
            # No manager: the unit's members see the task in their pool instead.
            return _Holders(unit_id=unit_id, pool_unit_id=unit_id, note="entité sans responsable")
        context.people[manager.id] = emails.Recipient(
            manager.full_name, manager.email, manager.locale
        )
        return _Holders(unit_id=unit_id, user_id=manager.id)

    def _follow_mail(
        self,
        uow: UnitOfWork,
        context: _Context,
        snapshot: Snapshot,
        now: dt.datetime,
        current: str | None = None,
    ) -> str | None:
        """registered → in_progress at the first step; closed or answered at the end.

        `current` is the status read with the task, when it was: most steps change nothing and
        then write nothing. The update repeats the condition, so a stale read changes nothing.
        """
        if context.mail_id is None:
            return None
        values: dict[str, Any] = {"b_id": context.mail_id, "b_now": now}
        if snapshot.finished:
            status = MailStatus.ANSWERED if "answered" in snapshot.end_events else MailStatus.CLOSED
            # A mail already answered (an outgoing mail was linked to it) stays answered.
            if current in (status.value, MailStatus.ANSWERED.value):
                return None
            statement = _MAIL_ENDED
        else:
            status = MailStatus.IN_PROGRESS
            if current is not None and current != MailStatus.REGISTERED.value:
                return None
            statement = _MAIL_STARTED
        values["b_status"] = status.value
        if statement.run(uow.session, values).rowcount != 1:
            return None
        self._reindex_once(uow, context)
        return status.value

    def _follow_due_date(
        self, session: Session, mail_id: int, deadline: Any, now: dt.datetime
    ) -> bool:
        """The registry shows the deadline the director chose, not the mail type's default.

        True when the mail was updated."""
        try:
            moment = dt.datetime.fromisoformat(str(deadline))
        except ValueError:
            return False  # a duration: the timer knows the moment, the registry keeps its date
        if moment.tzinfo is None:
            return False
        _MAIL_DUE_ON.run(
            session, {"b_id": mail_id, "b_due_on": self.due_date(moment), "b_now": now}
        )
        return True

    # -- Claim, release, reassign ----------------------------------------------------------------

    def claim(self, actor: Actor, task_id: int, expected_version: int | None = None) -> None:
        """Take an open task from my unit's (or role's) pool."""
        with self._writer() as uow:
            session = uow.session
            row = self._visible_task(session, actor, task_id)
            self._check_active(session, row, expected_version)
            if row.state != TaskState.OPEN:
                who = self._user_name(session, row.assignee_id)
                raise Conflict("Cette tâche est déjà prise par %(who)s.", who=who)
            if not self._is_candidate(actor, row):
                raise PermissionDenied("Cette tâche n'est pas dans le panier de votre entité.")
            row.assignee_id = actor.user_id
            row.state = TaskState.CLAIMED.value
            self._flush_or_conflict(
                session, Message("Quelqu'un d'autre a pris cette tâche avant vous.")
            )
            self._audit_task(session, actor, AuditAction.TASK_CLAIMED, row, {})
            self._reindex_holders(uow, row.mail_id, row.document_id)
            uow.commit()

    def release(self, actor: Actor, task_id: int, expected_version: int | None = None) -> None:
        """Give a claimed task back to its pool."""
        with self._writer() as uow:
            session = uow.session
            row = self._visible_task(session, actor, task_id)
            self._check_active(session, row, expected_version)
            delegators = self._delegators(session, actor)
            holder = row.assignee_id == actor.user_id or row.assignee_id in delegators
            if row.state != TaskState.CLAIMED or not holder:
                raise PermissionDenied("Vous ne détenez pas cette tâche.")
            if row.candidate_unit_id is None and row.candidate_role is None:
                raise ValidationError(
                    "Cette tâche vous a été confiée nommément : elle n'a pas de panier où "
                    "retourner. Demandez à votre responsable de la réattribuer."
                )
            previous = row.assignee_id
            row.assignee_id = None
            row.state = TaskState.OPEN.value
            self._flush_or_conflict(
                session, Message("Cette tâche a changé entre-temps : rechargez-la.")
            )
            self._audit_task(
                session, actor, AuditAction.TASK_RELEASED, row, {"previous_assignee": previous}
            )
            self._reindex_holders(uow, row.mail_id, row.document_id)
            uow.commit()

    def reassign(
        self,
        actor: Actor,
        task_id: int,
        to_user_id: int,
        comment: str = "",
        expected_version: int | None = None,
    ) -> None:
        """Give a task to someone else: the manager of its unit (or above), or an administrator."""
        comment = comment.strip()[:MAX_COMMENT]
        with self._writer() as uow:
            session = uow.session
            row = self._visible_task(session, actor, task_id)
            self._check_active(session, row, expected_version)
            managed = self._reassigner_units(session, actor, row)
            target = session.get(User, to_user_id)
            if target is None or not target.active or target.role == Role.AUDITOR.value:
                raise ValidationError("Cette personne ne peut pas recevoir de tâche.", "to_user_id")
            if actor.role is not Role.ADMIN and target.unit_id not in managed:
                raise PermissionDenied(
                    "Vous ne pouvez réattribuer qu'à une personne de vos entités."
                )
            previous = row.assignee_id
            row.assignee_id = target.id
            row.state = TaskState.CLAIMED.value
            if target.unit_id is not None:
                row.unit_id = target.unit_id
            self._flush_or_conflict(
                session, Message("Cette tâche a changé entre-temps : rechargez-la.")
            )
            self._audit_task(
                session,
                actor,
                AuditAction.TASK_REASSIGNED,
                row,
                {"from": previous, "to": target.id, **({"comment": comment} if comment else {})},
            )
            now = self.now()
            move = self._move(uow.session, actor, row, now)
            self._notify_assignment(uow, move, row, target)
            self._notify_withdrawn(uow, move, row, previous, to=target)
            self._reindex_holders(uow, row.mail_id, row.document_id)
            uow.commit()

    def reassign_to_unit(
        self,
        actor: Actor,
        task_id: int,
        unit_id: int,
        comment: str = "",
        expected_version: int | None = None,
    ) -> None:
        """Put a task back in a unit's pool, held by nobody: any member of the unit may take it.

        For a holder who is away, or a task better done by another unit. The same people as
        `reassign` may do it, towards the units they manage (an administrator: any active unit).
        The task leaves any role's pool: from now on it is that unit's.
        """
        comment = comment.strip()[:MAX_COMMENT]
        with self._writer() as uow:
            session = uow.session
            row = self._visible_task(session, actor, task_id)
            self._check_active(session, row, expected_version)
            managed = self._reassigner_units(session, actor, row)
            self._check_poolable(row)
            unit = session.get(Unit, unit_id)
            if unit is None or not unit.active:
                raise ValidationError("Cette entité n'existe pas ou n'est plus active.", "unit_id")
            if actor.role is not Role.ADMIN and unit.id not in managed:
                raise PermissionDenied(
                    "Vous ne pouvez remettre une tâche que dans le panier de l'une de vos entités."
                )
            if (
                row.state == TaskState.OPEN
                and row.candidate_unit_id == unit.id
                and row.candidate_role is None
            ):
                raise ValidationError(
                    "Cette tâche attend déjà dans le panier de cette entité.", "unit_id"
                )
            members = self._claimers(session, unit.id)
            if not members:
                raise ValidationError(
                    "Personne dans cette entité ne peut prendre la tâche : choisissez-en une "
                    "autre, ou confiez-la à une personne.",
                    "unit_id",
                )
            previous, previous_unit = row.assignee_id, row.unit_id
            row.assignee_id = None
            row.state = TaskState.OPEN.value
            row.unit_id = unit.id
            row.candidate_unit_id = unit.id
            row.candidate_role = None
            self._flush_or_conflict(
                session, Message("Cette tâche a changé entre-temps : rechargez-la.")
            )
            self._audit_task(
                session,
                actor,
                AuditAction.TASK_REASSIGNED,
                row,
                {
                    "from": previous,
                    "from_unit": previous_unit,
                    "to_unit": unit.id,
                    **({"comment": comment} if comment else {}),
                },
            )
            now = self.now()
            # The former holder hears it once, as the task taken from them.
            told = [member for member in members if member not in (actor.user_id, previous)]
            move = self._move(uow.session, actor, row, now)
            self._notify_pool(uow, move, row, told)
            self._notify_withdrawn(uow, move, row, previous, unit=unit)
            self._reindex_holders(uow, row.mail_id, row.document_id)
            uow.commit()

    def pool_units(self, actor: Actor, task_id: int) -> tuple[int, ...]:
        """The units whose pool the actor may put the task in, by code; () when none.

        Only units with someone able to take it, and not the pool where it already waits.
        """
        with self._reader() as uow:
            session = uow.session
            row = self._visible_task(session, actor, task_id)
            if not TaskState(row.state).active or row.kind == TaskKind.ESCALATION:
                return ()
            managed = self._managed_units(session, actor)
            if not self._may_reassign(actor, row, managed):
                return ()
            someone = (
                select(User.id).where(User.unit_id == Unit.id, *self._CLAIMER_CONDITIONS).exists()
            )
            query = select(Unit.id).where(Unit.active.is_(True), someone).order_by(Unit.code)
            if actor.role is not Role.ADMIN:
                query = query.where(Unit.id.in_(managed))
            waiting = (
                row.candidate_unit_id
                if row.state == TaskState.OPEN and row.candidate_role is None
                else None
            )
            return tuple(found for found in session.execute(query).scalars() if found != waiting)

    @staticmethod
    def _may_reassign(actor: Actor, row: Task, managed: set[int]) -> bool:
        return actor.role is Role.ADMIN or (row.unit_id is not None and row.unit_id in managed)

    def _reassigner_units(self, session: Session, actor: Actor, row: Task) -> set[int]:
        """The units the actor manages, once it is sure they may give this task away."""
        managed = self._managed_units(session, actor)
        if not self._may_reassign(actor, row, managed):
            raise PermissionDenied(
                "Seul le responsable de l'entité de la tâche (ou un administrateur) la réattribue."
            )
        return managed

    @staticmethod
    def _check_poolable(row: Task) -> None:
        # An escalation asks a manager to chase a late task: only a person can, not a pool.
        if row.kind == TaskKind.ESCALATION:
            raise ValidationError(
                "Une alerte de retard revient à un responsable : elle ne va pas dans le panier "
                "d'une entité. Confiez-la à une personne.",
                "unit_id",
            )

    # Who may take a task from a unit's pool (`_is_candidate`): an auditor only reads.
    _CLAIMER_CONDITIONS: Final = (User.active.is_(True), User.role != Role.AUDITOR.value)

    @classmethod
    def _claimers(cls, session: Session, unit_id: int) -> list[int]:
        """The people of a unit who may take a task from its pool, as many as get told."""
        return list(
            session.execute(
                select(User.id)
                .where(User.unit_id == unit_id, *cls._CLAIMER_CONDITIONS)
                .order_by(User.id)
                .limit(MAX_RECIPIENTS)
            ).scalars()
        )

    def _visible_task(self, session: Session, actor: Actor, task_id: int) -> Task:
        row = session.get(Task, task_id)
        if row is None or not self._may_see(session, actor, row, self._delegators(session, actor)):
            raise NotFound("Tâche introuvable.")
        return row

    def _check_active(self, session: Session, row: Task, expected_version: int | None) -> None:
        if row.state == TaskState.DONE:
            raise Conflict(
                "Cette tâche a déjà été traitée par %(who)s.",
                who=self._user_name(session, row.completed_by_id),
            )
        if row.state == TaskState.CANCELLED:
            raise Conflict("Cette tâche a été annulée : le circuit a pris un autre chemin.")
        if expected_version is not None and expected_version != row.lock_version:
            raise Conflict("Cette tâche a changé depuis que vous l'avez ouverte : rechargez-la.")

    @staticmethod
    def _flush_or_conflict(session: Session, message: str) -> None:
        try:
            session.flush()
        except StaleDataError:
            raise Conflict(message) from None

    def _audit_task(
        self,
        session: Session,
        actor: Actor,
        action: AuditAction,
        row: Task,
        details: Mapping[str, Any],
    ) -> None:
        kind, object_id = ("mail", row.mail_id) if row.mail_id else ("document", row.document_id)
        record(
            session, actor, action, kind, object_id, {"task": row.id, "name": row.name, **details}
        )

    # -- Who may do what -------------------------------------------------------------------------

    def _delegators(self, session: Session, actor: Actor) -> set[int]:
        """People whose tasks the actor holds today by delegation."""
        if actor.user_id is None:
            return set()
        params = {"user_id": actor.user_id, "today": self.today()}
        return set(session.execute(_DELEGATORS, params).scalars())

    @staticmethod
    def _is_candidate(actor: Actor, row: TaskLike) -> bool:
        if actor.user_id is None or actor.role in (None, Role.AUDITOR):
            return False
        if row.candidate_unit_id is not None and actor.unit_id == row.candidate_unit_id:
            return True
        return (
            row.candidate_role is not None
            and actor.role is not None
            and (actor.role.value == row.candidate_role)
        )

    def _may_complete(self, actor: Actor, row: TaskLike, delegators: set[int]) -> bool:
        if actor.user_id is None or actor.role in (None, Role.AUDITOR):
            return False
        if row.assignee_id is not None:
            return row.assignee_id == actor.user_id or row.assignee_id in delegators
        return self._is_candidate(actor, row)

    def _may_see(self, session: Session, actor: Actor, row: TaskLike, delegators: set[int]) -> bool:
        if actor.user_id is None or actor.role in (Role.ADMIN, Role.AUDITOR):
            return True
        people = {row.assignee_id, row.completed_by_id, row.candidate_user_id}
        if actor.user_id in people or people & delegators:
            return True
        if self._is_candidate(actor, row):
            return True
        return row.unit_id is not None and row.unit_id in self._managed_units(session, actor)

    @staticmethod
    def _managed_units(session: Session, actor: Actor) -> set[int]:
        """The units the actor manages, and every unit below them."""
        if actor.user_id is None:
            return set()
        children: dict[int | None, list[int]] = {}
        roots = []
        for unit_id, parent_id, manager_id in session.execute(_UNIT_TREE):
            children.setdefault(parent_id, []).append(unit_id)
            if manager_id == actor.user_id:
                roots.append(unit_id)
        found: set[int] = set()
        todo = list(roots)
        while todo:
            current = todo.pop()
            if current not in found:
                found.add(current)
                todo.extend(children.get(current, []))
        return found

    @staticmethod
    def _user_name(session: Session, user_id: int | None) -> str:
        if user_id is None:
            return "quelqu'un d'autre"
        name = session.execute(
            select(User.full_name).where(User.id == user_id)
        ).scalar_one_or_none()
        return name or "quelqu'un d'autre"

    # -- Inboxes (the task table only) -----------------------------------------------------------

    def my_tasks(self, actor: Actor, page: int = 1, per_page: int = 25) -> TaskPage:
        """Tasks I hold (claimed, or given to me by name), the earliest deadline first."""
        if actor.user_id is None:
            return TaskPage((), 0, 1, per_page)
        return self._page(_MINE, {"user_id": actor.user_id}, page, per_page)

    def unit_pool(self, actor: Actor, page: int = 1, per_page: int = 25) -> TaskPage:
        """Open tasks nobody has taken in my unit's pool, and in my role's."""
        pools = self._pool_params(actor)
        if pools is None:
            return TaskPage((), 0, 1, per_page)
        return self._page(_POOL, pools, page, per_page)

    def delegated_to_me(self, actor: Actor, page: int = 1, per_page: int = 25) -> TaskPage:
        """Tasks held by the people who delegated theirs to me today."""
        with self._reader() as uow:
            delegators = self._delegators(uow.session, actor)
        if not delegators:
            return TaskPage((), 0, 1, per_page)
        return self._page(_DELEGATED, {"user_ids": sorted(delegators)}, page, per_page)

    def overdue(
        self,
        actor: Actor,
        unit_id: int | None = None,
        page: int = 1,
        per_page: int = 25,
        now: dt.datetime | None = None,
    ) -> TaskPage:
        """Tasks past their deadline in the units I manage (all of them for admins, auditors)."""
        now = now or self.now()
        units = self._overdue_scope(actor, unit_id)
        if units is None:
            return self._page(_OVERDUE_ALL, {"now": now}, page, per_page, now=now)
        if not units:
            return TaskPage((), 0, 1, per_page)
        params = {"now": now, "unit_ids": sorted(units)}
        return self._page(_OVERDUE_IN_UNITS, params, page, per_page, now=now)

    def overdue_by_unit(
        self, actor: Actor, now: dt.datetime | None = None
    ) -> tuple[UnitOverdue, ...]:
        """How many tasks are late in each unit I manage (every unit for admins, auditors)."""
        now = now or self.now()
        units = self._overdue_scope(actor, None)
        conditions: list[ColumnElement[bool]] = [ACTIVE, Task.due_at < now]
        if units is not None:
            if not units:
                return ()
            conditions.append(Task.unit_id.in_(sorted(units)))
        with self._reader() as uow:
            counts = uow.session.execute(
                select(Task.unit_id, func.count()).where(*conditions).group_by(Task.unit_id)
            ).all()
            names = {
                unit.id: (unit.code, unit.name)
                for unit in uow.session.execute(
                    select(Unit.id, Unit.code, Unit.name).where(
                        Unit.id.in_([u for u, _ in counts if u is not None])
                    )
                )
            }
        return tuple(
            sorted(
                (UnitOverdue(u, *names.get(u, ("—", "Sans entité")), count) for u, count in counts),
                key=lambda row: (-row.count, row.unit_code),
            )
        )

    def counts(self, actor: Actor, now: dt.datetime | None = None) -> InboxCounts:
        """The badges of the inbox: five counts from the task table's partial indexes."""
        now = now or self.now()
        if actor.user_id is None:
            return InboxCounts(0, 0, 0, 0, 0)
        with self._reader() as uow:
            session = uow.session

            def count(task_list: _TaskList, params: dict[str, Any]) -> int:
                found: int = session.execute(task_list.count, params).scalar_one()
                return min(found, COUNT_CAP)

            mine = count(_MINE, {"user_id": actor.user_id})
            overdue_mine = count(_MINE_OVERDUE, {"user_id": actor.user_id, "now": now})
            pools = self._pool_params(actor)
            pool = count(_POOL, pools) if pools is not None else 0
            delegators = self._delegators(session, actor)
            delegated = count(_DELEGATED, {"user_ids": sorted(delegators)}) if delegators else 0
            managed = self._managed_units(session, actor)
            overdue_managed = (
                count(_OVERDUE_IN_UNITS, {"now": now, "unit_ids": sorted(managed)})
                if managed
                else 0
            )
        return InboxCounts(mine, pool, delegated, overdue_mine, overdue_managed)

    @staticmethod
    def _pool_params(actor: Actor) -> dict[str, Any] | None:
        """The pools of my unit and of my role; a pool I have not (no unit) matches nothing."""
        if actor.user_id is None or actor.role in (None, Role.AUDITOR):
            return None
        return {"unit": actor.unit_id, "role": actor.role.value}

    def _overdue_scope(self, actor: Actor, unit_id: int | None) -> set[int] | None:
        """None: every unit. Otherwise the units whose overdue tasks the actor may list."""
        with self._reader() as uow:
            session = uow.session
            if actor.user_id is None or actor.role in (Role.ADMIN, Role.AUDITOR):
                if unit_id is None:
                    return None
                return unit_subtree(session, unit_id)
            managed = self._managed_units(session, actor)
            if not managed:
                raise PermissionDenied(
                    "Les retards par entité sont réservés aux responsables d'entité."
                )
            if unit_id is None:
                return managed
            if unit_id not in managed:
                raise PermissionDenied("Vous ne gérez pas cette entité.")
            return unit_subtree(session, unit_id) & managed

    def _summary(self, row: Any, now: dt.datetime) -> TaskSummary:
        state = TaskState(row.state)
        return TaskSummary(
            id=row.id,
            version=row.lock_version,
            kind=TaskKind(row.kind),
            name=row.name,
            bpmn_id=row.bpmn_id,
            state=state,
            mail_id=row.mail_id,
            mail_chrono=row.chrono,
            mail_subject="" if row.confidential else (row.subject or ""),
            confidential=bool(row.confidential),
            document_id=row.document_id,
            unit_id=row.unit_id,
            candidate_unit_id=row.candidate_unit_id,
            candidate_role=row.candidate_role,
            assignee_id=row.assignee_id,
            assignee_name=row.full_name,
            due_at=row.due_at,
            overdue=state.active and row.due_at is not None and row.due_at < now,
            escalated=row.escalated_at is not None,
            created_at=row.created_at,
        )

    def _page(
        self,
        task_list: _TaskList,
        params: dict[str, Any],
        page: int,
        per_page: int,
        now: dt.datetime | None = None,
    ) -> TaskPage:
        page = max(1, page)
        per_page = min(max(1, per_page), MAX_PER_PAGE)
        now = now or self.now()
        with self._reader() as uow:
            session = uow.session
            total = session.execute(task_list.count, params).scalar_one()
            rows = session.execute(
                task_list.page, {**params, "limit": per_page, "offset": (page - 1) * per_page}
            ).all()
        return TaskPage(
            tuple(self._summary(r, now) for r in rows),
            min(total, COUNT_CAP),
            page,
            per_page,
            total_capped=total > COUNT_CAP,
        )

    # -- One task, and a mail's circuit ----------------------------------------------------------

    def get(self, actor: Actor, task_id: int) -> TaskDetail:
        """A task with its outcomes, form values, attachments and what the actor may do."""
        with self._reader() as uow:
            session = uow.session
            delegators = self._delegators(session, actor)
            row = session.get(Task, task_id)
            if row is None or not self._may_see(session, actor, row, delegators):
                raise NotFound("Tâche introuvable.")
            summary_row = session.execute(_SUMMARY.where(TASKS.c.id == task_id)).one()
            summary = self._summary(summary_row, self.now())
            if row.kind == TaskKind.ESCALATION:
                offered: tuple[Outcome, ...] = ESCALATION_OUTCOMES
                documentation: str | None = (
                    "Une tâche a dépassé son échéance : relancez la personne ou réattribuez-la."
                )
            else:
                definition_id = session.execute(
                    select(CircuitInstance.definition_id).where(
                        CircuitInstance.id == row.instance_id
                    )
                ).scalar_one()
                definition = self._circuits.definition(session, definition_id)
                declared = definition.circuit.user_task(row.bpmn_id)
                offered = declared.outcomes if declared is not None else ()
                documentation = declared.documentation if declared is not None else None
            attachments = tuple(
                session.execute(
                    select(TaskAttachment.document_id)
                    .where(TaskAttachment.task_id == row.id)
                    .order_by(TaskAttachment.document_id)
                ).scalars()
            )
            active = TaskState(row.state).active
            managed = self._managed_units(session, actor)
            holder = row.assignee_id == actor.user_id or row.assignee_id in delegators
            return TaskDetail(
                task=summary,
                lane=row.lane,
                documentation=documentation,
                outcomes=tuple(
                    OutcomeChoice(o.name, OUTCOME_LABELS.get(o.name, o.name), o.requires)
                    for o in offered
                ),
                form_data=dict(row.form_data),
                outcome=row.outcome,
                comment=row.comment,
                completed_by_name=(
                    self._user_name(session, row.completed_by_id) if row.completed_by_id else None
                ),
                completed_at=row.completed_at,
                attachment_ids=attachments,
                escalated_task_id=row.escalated_task_id,
                can_complete=active and self._may_complete(actor, row, delegators),
                can_claim=row.state == TaskState.OPEN and self._is_candidate(actor, row),
                can_release=(
                    row.state == TaskState.CLAIMED
                    and holder
                    and (row.candidate_unit_id is not None or row.candidate_role is not None)
                ),
                can_reassign=active
                and (
                    actor.role is Role.ADMIN or (row.unit_id is not None and row.unit_id in managed)
                ),
            )

    def progress(self, actor: Actor, mail_id: int) -> tuple[CircuitProgress, ...]:
        """The circuits of a mail the actor may see: definition, done and current steps, history."""
        with self._reader() as uow:
            session = uow.session
            visible = session.execute(
                select(Mail.id).where(Mail.id == mail_id, visible_mail(session, actor))
            ).scalar_one_or_none()
            if visible is None:
                raise NotFound("Courrier introuvable.")
            instances = session.execute(
                select(
                    CircuitInstance.id,
                    CircuitInstance.definition_id,
                    CircuitInstance.status,
                    CircuitInstance.end_events,
                )
                .where(CircuitInstance.mail_id == mail_id)
                .order_by(CircuitInstance.id)
            ).all()
            assignee = aliased(User)
            completer = aliased(User)
            steps = session.execute(
                select(Task, assignee.full_name, completer.full_name)
                .outerjoin(assignee, assignee.id == Task.assignee_id)
                .outerjoin(completer, completer.id == Task.completed_by_id)
                .where(Task.mail_id == mail_id)
                .order_by(Task.created_at, Task.id)
            ).all()
            result = []
            for instance in instances:
                definition = self._circuits.definition(session, instance.definition_id)
                mine = [s for s in steps if s[0].instance_id == instance.id]
                result.append(
                    CircuitProgress(
                        instance_id=instance.id,
                        process_id=definition.process_id,
                        version=definition.version,
                        name=definition.name,
                        finished=instance.status == "finished",
                        end_events=tuple(instance.end_events),
                        bpmn=definition.bpmn,
                        done=tuple(
                            dict.fromkeys(
                                t.bpmn_id
                                for t, _, _ in mine
                                if t.kind == TaskKind.USER and t.state == TaskState.DONE
                            )
                        ),
                        current=tuple(
                            dict.fromkeys(
                                t.bpmn_id
                                for t, _, _ in mine
                                if t.kind == TaskKind.USER and TaskState(t.state).active
                            )
                        ),
                        steps=tuple(
                            TaskHistoryEntry(
                                id=t.id,
                                kind=TaskKind(t.kind),
                                bpmn_id=t.bpmn_id,
                                name=t.name,
                                state=TaskState(t.state),
                                assignee_name=assignee_name,
                                completed_by_name=completer_name,
                                created_at=t.created_at,
                                due_at=t.due_at,
                                completed_at=t.completed_at,
                                outcome=t.outcome,
                                comment=t.comment,
                            )
                            for t, assignee_name, completer_name in mine
                        ),
                    )
                )
            return tuple(result)

    # -- Deadlines: timers, escalations, reminders -----------------------------------------------

    def sweep(self, now: dt.datetime | None = None) -> SweepReport:
        """The periodic job: wake due timers, escalate late tasks, remind, send the outbox."""
        now = now or self.now()
        woken = self.wake_due(now)
        escalated = self.escalate_overdue(now)
        reminded = self.send_reminders(now)
        emails = self._outbox.send_pending(now)
        return SweepReport(woken, escalated, reminded, emails)

    def wake_due(self, now: dt.datetime | None = None, limit: int = 500) -> int:
        """Let the timers of instances due by `now` fire; returns how many instances moved."""
        now = now or self.now()
        with self._reader() as uow:
            due = (
                uow.session.execute(
                    select(CircuitInstance.id)
                    .where(
                        CircuitInstance.next_wakeup_at <= now,
                        CircuitInstance.status == "running",
                    )
                    .order_by(CircuitInstance.next_wakeup_at)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        return sum(1 for instance_id in due if self._wake_one(instance_id, now))

    def _wake_one(self, instance_id: int, now: dt.datetime) -> bool:
        actor = Actor.system("circuits")
        with self._writer() as uow:
            session = uow.session
            instance = session.execute(
                select(
                    CircuitInstance.definition_id,
                    CircuitInstance.state,
                    CircuitInstance.lock_version,
                    CircuitInstance.next_wakeup_at,
                    CircuitInstance.status,
                    CircuitInstance.mail_id,
                    CircuitInstance.document_id,
                    CircuitInstance.started_by_id,
                ).where(CircuitInstance.id == instance_id)
            ).one_or_none()
            if (
                instance is None
                or instance.status != "running"
                or instance.next_wakeup_at is None
                or instance.next_wakeup_at > now
            ):
                return False  # another worker woke it already
            deployed = self._circuits.definition(session, instance.definition_id)
            try:
                snapshot = self._circuits.engine.wake(deployed.bpmn, instance.state, now)
            except CircuitError as error:
                logger.error("instance %s cannot wake: %s", instance_id, error)
                session.execute(
                    update(CircuitInstance)
                    .where(
                        CircuitInstance.id == instance_id,
                        CircuitInstance.lock_version == instance.lock_version,
                    )
                    .values(next_wakeup_at=now + RETRY_WAKE)
                    .execution_options(synchronize_session=False)
                )
                uow.commit()
                return False
            try:
                self._save(session, instance_id, instance.lock_version, snapshot, now)
            except _InstanceMoved:
                return False
            context = _Context(
                instance_id,
                instance.mail_id,
                instance.document_id,
                instance.started_by_id,
                deployed,
            )
            synced = self._sync(uow, context, snapshot, now, completed=None)
            status = self._follow_mail(uow, context, snapshot, now) if snapshot.finished else None
            if context.reindex_queued and context.mail_id is not None and status is None:
                _MAIL_TOUCHED.run(session, {"b_id": context.mail_id, "b_now": now})
            if synced.created or synced.cancelled or synced.notes:
                kind, object_id = context.audit_object
                record(
                    session,
                    actor,
                    AuditAction.CIRCUIT_TIMER_FIRED,
                    kind,
                    object_id,
                    {
                        "instance": instance_id,
                        "created": [t.id for t in synced.created],
                        "cancelled": synced.cancelled,
                        **({"notes": synced.notes} if synced.notes else {}),
                    },
                )
            uow.commit()
            return True

    def escalate_overdue(self, now: dt.datetime | None = None, limit: int = 500) -> int:
        """Give the manager an escalation task for every task past its deadline (once each)."""
        now = now or self.now()
        with self._reader() as uow:
            late = (
                uow.session.execute(
                    select(Task.id)
                    .where(
                        ACTIVE,
                        Task.due_at <= now,
                        Task.kind == TaskKind.USER.value,
                        Task.escalated_at.is_(None),
                    )
                    .order_by(Task.due_at)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        escalated = 0
        for task_id in late:
            with self._writer() as uow:
                if self._escalate(uow, task_id, now, "échéance dépassée") is not None:
                    uow.commit()
                    escalated += 1
        return escalated

    def _escalate(self, uow: UnitOfWork, task_id: int, now: dt.datetime, reason: str) -> int | None:
        """Mark a late task escalated and give its manager a task; None if already done."""
        session = uow.session
        marked = session.execute(
            update(Task)
            .where(Task.id == task_id, Task.escalated_at.is_(None), ACTIVE)
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if marked.rowcount != 1:  # type: ignore[attr-defined]
            return None
        late = session.execute(
            select(
                Task.instance_id,
                Task.mail_id,
                Task.document_id,
                Task.name,
                Task.bpmn_id,
                Task.unit_id,
                Task.assignee_id,
                Task.due_at,
            ).where(Task.id == task_id)
        ).one()
        manager_id, unit_id = self._escalation_target(session, late.unit_id, late.assignee_id)
        escalation = Task(
            instance_id=late.instance_id,
            mail_id=late.mail_id,
            document_id=late.document_id,
            kind=TaskKind.ESCALATION.value,
            engine_task_id=None,
            bpmn_id=late.bpmn_id,
            name=f"Délai dépassé : {late.name}"[:200],
            lane="escalation",
            unit_id=unit_id if unit_id is not None else late.unit_id,
            candidate_user_id=manager_id,
            candidate_role=None if manager_id is not None else Role.ADMIN.value,
            assignee_id=manager_id,
            escalated_task_id=task_id,
            form_data={},
            due_at=None,
            state=(TaskState.CLAIMED if manager_id is not None else TaskState.OPEN).value,
            created_at=now,
        )
        session.add(escalation)
        session.flush()
        self._reindex_holders(uow, late.mail_id, late.document_id)
        recipients = self._addresses(session, [manager_id] if manager_id else [])
        if not recipients:
            recipients = self._pool_addresses(session, None, Role.ADMIN.value)
        mail = self._mail_ref(session, late.mail_id)
        self._ring(
            session,
            [manager_id] if manager_id else self._pool_people(session, None, Role.ADMIN.value),
            NotificationKind.ESCALATION,
            late,
            mail,
            now,
        )
        holder = self._user_name(session, late.assignee_id) if late.assignee_id else None
        for person in recipients:
            message = emails.escalation(
                self._outbox.language(person.locale),
                person.name,
                late.name,
                mail,
                late.due_at,
                holder,
                self._tz,
            )
            self._outbox.add(uow, person.address, message.subject, message.body)
        kind, object_id = ("mail", late.mail_id) if late.mail_id else ("document", late.document_id)
        record(
            session,
            Actor.system("circuits"),
            AuditAction.TASK_ESCALATED,
            kind,
            object_id,
            {
                "task": task_id,
                "name": late.name,
                "escalation": escalation.id,
                "to": manager_id,
                "reason": reason,
            },
        )
        return escalation.id

    @staticmethod
    def _escalation_target(
        session: Session, unit_id: int | None, assignee_id: int | None
    ) -> tuple[int | None, int | None]:
        """The manager of the task's unit, or of the unit above when the late one is the manager."""
        seen: set[int] = set()
        current = unit_id
        while current is not None and current not in seen:
            seen.add(current)
            unit = session.execute(
                select(Unit.manager_id, Unit.parent_id).where(Unit.id == current)
            ).one_or_none()
            if unit is None:
                break
            if unit.manager_id is not None and unit.manager_id != assignee_id:
                active = session.execute(
                    select(User.active).where(User.id == unit.manager_id)
                ).scalar_one_or_none()
                if active:
                    return unit.manager_id, current
            current = unit.parent_id
        return None, unit_id

    def send_reminders(self, now: dt.datetime | None = None, limit: int = 500) -> int:
        """E-mail the holders of tasks due within `reminder_working_days` working days (once)."""
        now = now or self.now()
        days = self._settings.reminder_working_days
        if days <= 0:
            return 0
        with self._reader() as uow:
            horizon_day = working_calendar(uow.session).add_working_days(self.today(now), days)
            horizon = self.deadline_at(horizon_day)
            due = (
                uow.session.execute(
                    select(Task.id)
                    .where(
                        ACTIVE,
                        Task.due_at > now,
                        Task.due_at <= horizon,
                        Task.kind == TaskKind.USER.value,
                        Task.reminded_at.is_(None),
                    )
                    .order_by(Task.due_at)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        reminded = 0
        for task_id in due:
            with self._writer() as uow:
                session = uow.session
                marked = session.execute(
                    update(Task)
                    .where(Task.id == task_id, Task.reminded_at.is_(None), ACTIVE)
                    .values(reminded_at=now)
                    .execution_options(synchronize_session=False)
                )
                if marked.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                task = session.execute(
                    select(
                        Task.name,
                        Task.mail_id,
                        Task.assignee_id,
                        Task.candidate_unit_id,
                        Task.candidate_role,
                        Task.due_at,
                        Task.document_id,
                    ).where(Task.id == task_id)
                ).one()
                if task.assignee_id is not None:
                    recipients = self._addresses(session, [task.assignee_id])
                    people = [task.assignee_id]
                else:
                    recipients = self._pool_addresses(
                        session, task.candidate_unit_id, task.candidate_role
                    )
                    people = self._pool_people(session, task.candidate_unit_id, task.candidate_role)
                mail = self._mail_ref(session, task.mail_id)
                self._ring(session, people, NotificationKind.REMINDER, task, mail, now)
                for person in recipients:
                    message = emails.reminder(
                        self._outbox.language(person.locale),
                        person.name,
                        task.name,
                        mail,
                        task.due_at,
                        self._tz,
                    )
                    self._outbox.add(uow, person.address, message.subject, message.body)
                uow.commit()
                reminded += 1
        return reminded

    # -- E-mails ---------------------------------------------------------------------------------

    def _notify_new(
        self, uow: UnitOfWork, context: _Context, created: Iterable[_Row], now: dt.datetime
    ) -> None:
        personal = [row for row in created if row.assignee_id is not None]
        if not personal:
            return
        session = uow.session
        mail = context.mail or self._mail_ref(session, context.mail_id)
        link = object_link(context.mail_id, context.document_id)
        for row in personal:
            notify(
                session,
                [row.assignee_id],
                NotificationKind.NEW_TASK,
                TaskNotice(row.name, mail.chrono if mail else None, row.due_at),
                link,
                now,
            )
        if not self._settings.notify_new_tasks:
            return
        # The holders' names and addresses came with their resolution: no query in most steps.
        missing = {row.assignee_id for row in personal} - set(context.people)
        if missing:
            for user_id, name, email, locale in session.execute(
                select(User.id, User.full_name, User.email, User.locale).where(User.id.in_(missing))
            ):
                context.people[user_id] = emails.Recipient(name, email, locale)
        addresses = {
            user_id: person for user_id, person in context.people.items() if person.address
        }
        if not addresses:
            return
        for row in personal:
            found = addresses.get(row.assignee_id)  # type: ignore[arg-type]
            if found is None:
                continue
            message = emails.new_task(
                self._outbox.language(found.locale),
                found.name,
                row.name,
                mail,
                row.due_at,
                self._tz,
            )
            self._outbox.add(uow, found.address, message.subject, message.body)

    def _move(self, session: Session, actor: Actor, row: Task, now: dt.datetime) -> _Move:
        return _Move(
            actor, self._actor_name(session, actor), self._mail_ref(session, row.mail_id), now
        )

    def _notify_assignment(self, uow: UnitOfWork, move: _Move, row: Task, target: User) -> None:
        """Tell the person a manager gave a task to, and who gave it, in their language."""
        session = uow.session
        mail, by = move.mail, move.by
        self._ring(session, [target.id], NotificationKind.ASSIGNMENT, row, mail, move.now, by=by)
        if not self._settings.notify_new_tasks or not target.email:
            return
        message = emails.reassigned(
            self._outbox.language(target.locale), target.full_name, row.name, mail, by
        )
        self._outbox.add(uow, target.email, message.subject, message.body)

    def _notify_pool(self, uow: UnitOfWork, move: _Move, row: Task, people: Sequence[int]) -> None:
        """Tell a unit's people that a manager put a task in their pool, each in their language."""
        session = uow.session
        mail, by = move.mail, move.by
        self._ring(session, people, NotificationKind.POOL, row, mail, move.now, by=by)
        if not self._settings.notify_new_tasks:
            return
        for person in self._addresses(session, people):
            message = emails.in_pool(
                self._outbox.language(person.locale),
                person.name,
                row.name,
                mail,
                row.due_at,
                self._tz,
                by,
            )
            self._outbox.add(uow, person.address, message.subject, message.body)

    def _notify_withdrawn(
        self,
        uow: UnitOfWork,
        move: _Move,
        row: Task,
        previous: int | None,
        to: User | None = None,
        unit: Unit | None = None,
    ) -> None:
        """Tell the person who held a task that a manager gave it to someone (`to`) or to a
        unit's pool (`unit`); nobody when the task was held by nobody, the actor, or `to`."""
        actor = move.actor
        if previous is None or previous == actor.user_id or (to is not None and previous == to.id):
            return
        session = uow.session
        holder = session.get(User, previous)
        if holder is None or not holder.active:
            return
        mail, by = move.mail, move.by
        self._ring(
            session,
            [holder.id],
            NotificationKind.WITHDRAWN,
            row,
            mail,
            move.now,
            by=by,
            to=to.full_name if to is not None else None,
            unit=unit,
        )
        if not self._settings.notify_new_tasks or not holder.email:
            return
        language = self._outbox.language(holder.locale)
        message = emails.withdrawn(
            language,
            holder.full_name,
            row.name,
            mail,
            by,
            to=to.full_name if to is not None else None,
            unit=emails.unit_name(language, unit.name, unit.name_ar) if unit else None,
        )
        self._outbox.add(uow, holder.email, message.subject, message.body)

    @staticmethod
    def _actor_name(session: Session, actor: Actor) -> str:
        """Who moved a task, as the people it concerns know them."""
        if actor.user_id is None:
            return actor.username
        name = session.execute(
            select(User.full_name).where(User.id == actor.user_id)
        ).scalar_one_or_none()
        return name or actor.username

    @staticmethod
    def _ring(
        session: Session,
        people: Iterable[int | None],
        kind: NotificationKind,
        task: Any,
        mail: emails.MailRef | None,
        now: dt.datetime,
        by: str | None = None,
        to: str | None = None,
        unit: Unit | None = None,
    ) -> None:
        """The bell for `people` about `task` (a task row: its step, deadline, mail or document),
        and for a manager's move, who made it and where the task went."""
        notify(
            session,
            people,
            kind,
            TaskNotice(
                task.name,
                mail.chrono if mail else None,
                task.due_at,
                by=by,
                to=to,
                unit_id=unit.id if unit is not None else None,
                unit=unit.name if unit is not None else None,
            ),
            object_link(task.mail_id, task.document_id),
            now,
        )

    @staticmethod
    def _mail_ref(session: Session, mail_id: int | None) -> emails.MailRef | None:
        if mail_id is None:
            return None
        mail = _MAIL_LINES.run(session, {"mail_id": mail_id}).one()
        return emails.MailRef(mail.chrono, mail.subject, mail.confidential)

    @staticmethod
    def _addresses(session: Session, user_ids: Sequence[int]) -> list[emails.Recipient]:
        if not user_ids:
            return []
        return [
            emails.Recipient(name, email, locale)
            for name, email, locale in session.execute(
                select(User.full_name, User.email, User.locale).where(
                    User.id.in_(user_ids), User.active.is_(True), User.email != ""
                )
            )
        ]

    @staticmethod
    def _pool_people(session: Session, unit_id: int | None, role: str | None) -> list[int]:
        """The active members of a pool (a unit's, a role's), as many as get its e-mails."""
        conditions: list[ColumnElement[bool]] = []
        if unit_id is not None:
            conditions.append(User.unit_id == unit_id)
        if role is not None:
            conditions.append(User.role == role)
        if not conditions:
            return []
        return list(
            session.execute(
                select(User.id)
                .where(or_(*conditions), User.active.is_(True))
                .order_by(User.id)
                .limit(MAX_RECIPIENTS)
            ).scalars()
        )

    @staticmethod
    def _pool_addresses(
        session: Session, unit_id: int | None, role: str | None
    ) -> list[emails.Recipient]:
        conditions: list[ColumnElement[bool]] = []
        if unit_id is not None:
            conditions.append(User.unit_id == unit_id)
        if role is not None:
            conditions.append(User.role == role)
        if not conditions:
            return []
        return [
            emails.Recipient(name, email, locale)
            for name, email, locale in session.execute(
                select(User.full_name, User.email, User.locale)
                .where(or_(*conditions), User.active.is_(True), User.email != "")
                .order_by(User.id)
                .limit(MAX_RECIPIENTS)
            )
        ]


# -- Delegation ------------------------------------------------------------------------------------


class Delegations:
    """Absences: between two dates, a person's tasks may also be done by their delegate."""

    MAX_DAYS = 366

    def __init__(
        self,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        today: Callable[[], dt.date],
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._today = today

    def create(
        self,
        actor: Actor,
        from_user_id: int,
        to_user_id: int,
        starts_on: dt.date,
        ends_on: dt.date,
        reason: str = "",
    ) -> int:
        """Delegate `from_user`'s tasks: by that person, their manager, or an administrator."""
        reason = " ".join(reason.split())[:500]
        if from_user_id == to_user_id:
            raise ValidationError("On ne se délègue pas ses tâches à soi-même.", "to_user_id")
        if ends_on < starts_on:
            raise ValidationError("La fin de la délégation précède son début.", "ends_on")
        if ends_on < self._today():
            raise ValidationError("Cette délégation serait déjà terminée.", "ends_on")
        if (ends_on - starts_on).days >= self.MAX_DAYS:
            raise ValidationError("Une délégation dure un an au plus.", "ends_on")
        with self._writer() as uow:
            session = uow.session
            source = session.get(User, from_user_id)
            target = session.get(User, to_user_id)
            if source is None or target is None:
                raise NotFound("Personne introuvable.")
            self._check_may_delegate(session, actor, source)
            if not target.active or target.role == Role.AUDITOR.value:
                raise ValidationError(
                    "Cette personne ne peut pas recevoir de délégation.", "to_user_id"
                )
            overlapping = session.execute(
                select(Delegation.id).where(
                    Delegation.from_user_id == from_user_id,
                    Delegation.ended_at.is_(None),
                    Delegation.starts_on <= ends_on,
                    Delegation.ends_on >= starts_on,
                )
            ).first()
            if overlapping is not None:
                raise ValidationError(
                    "Une délégation couvre déjà une partie de ces dates : terminez-la d'abord.",
                    "starts_on",
                )
            row = Delegation(
                from_user_id=from_user_id,
                to_user_id=to_user_id,
                starts_on=starts_on,
                ends_on=ends_on,
                reason=reason,
                created_by_id=actor.user_id,
            )
            session.add(row)
            session.flush()
            record(
                session,
                actor,
                AuditAction.DELEGATION_CREATED,
                "user",
                from_user_id,
                {
                    "delegation": row.id,
                    "to": to_user_id,
                    "starts_on": starts_on.isoformat(),
                    "ends_on": ends_on.isoformat(),
                    **({"reason": reason} if reason else {}),
                },
            )
            uow.commit()
            return row.id

    def end(self, actor: Actor, delegation_id: int) -> None:
        """End a delegation now (the person is back); kept in the history."""
        with self._writer() as uow:
            session = uow.session
            row = session.get(Delegation, delegation_id)
            if row is None:
                raise NotFound("Délégation introuvable.")
            source = session.get_one(User, row.from_user_id)
            if actor.user_id != row.to_user_id:
                self._check_may_delegate(session, actor, source)
            if row.ended_at is not None:
                raise Conflict("Cette délégation est déjà terminée.")
            row.ended_at = dt.datetime.now(dt.UTC)
            row.ended_by_id = actor.user_id
            record(
                session,
                actor,
                AuditAction.DELEGATION_ENDED,
                "user",
                row.from_user_id,
                {"delegation": row.id, "to": row.to_user_id},
            )
            uow.commit()

    def for_user(self, actor: Actor, user_id: int | None = None) -> tuple[DelegationView, ...]:
        """Delegations given by or to a person (by default the actor), newest first."""
        user_id = user_id if user_id is not None else actor.user_id
        if user_id is None:
            return ()
        with self._reader() as uow:
            session = uow.session
            if user_id != actor.user_id:
                person = session.get(User, user_id)
                if person is None:
                    raise NotFound("Personne introuvable.")
                self._check_may_delegate(session, actor, person)
            source = aliased(User)
            target = aliased(User)
            today = self._today()
            rows = session.execute(
                select(Delegation, source.full_name, target.full_name)
                .join(source, source.id == Delegation.from_user_id)
                .join(target, target.id == Delegation.to_user_id)
                .where(or_(Delegation.from_user_id == user_id, Delegation.to_user_id == user_id))
                .order_by(Delegation.starts_on.desc(), Delegation.id.desc())
                .limit(200)
            ).all()
            return tuple(
                DelegationView(
                    id=d.id,
                    from_user_id=d.from_user_id,
                    from_name=from_name,
                    to_user_id=d.to_user_id,
                    to_name=to_name,
                    starts_on=d.starts_on,
                    ends_on=d.ends_on,
                    reason=d.reason,
                    ended_at=d.ended_at,
                    active=d.ended_at is None and d.starts_on <= today <= d.ends_on,
                )
                for d, from_name, to_name in rows
            )

    @staticmethod
    def _check_may_delegate(session: Session, actor: Actor, source: User) -> None:
        if actor.user_id is None or actor.role is Role.ADMIN or actor.user_id == source.id:
            return
        if actor.role is Role.MANAGER and source.unit_id is not None:
            managed = Tasks._managed_units(session, actor)
            if source.unit_id in managed:
                return
        raise PermissionDenied(
            "Seuls la personne, son responsable ou un administrateur gèrent ses délégations."
        )
