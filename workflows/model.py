"""Plain values the circuit engine returns: what a circuit declares and where an instance stands.

These cross into the service layer, so they hold only JSON-like data, strings and datetimes, never
SpiffWorkflow objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """A choice a user task offers (`ged:outcome`), and the data variables that choice needs."""

    name: str
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class UserTaskDefinition:
    """A user task as declared in the circuit.

    `instance_variable` is set for multi-instance tasks: the data variable holding the item each
    instance is for (e.g. `consulted_unit`), which is also how its lane is usually bound.
    """

    bpmn_id: str
    name: str
    lane: str
    documentation: str | None
    outcomes: tuple[Outcome, ...]
    instance_variable: str | None
    has_deadline: bool


@dataclass(frozen=True)
class Circuit:
    """A parsed, validated BPMN definition (one executable process).

    `thrown_events` names the escalations, messages and signals the circuit may throw, so the
    service layer can refuse at deploy a circuit whose events it would not act on.
    """

    process_id: str
    name: str
    sha256: str
    lanes: tuple[str, ...]
    user_tasks: tuple[UserTaskDefinition, ...]
    end_events: tuple[str, ...]
    thrown_events: tuple[str, ...]
    documentation: str | None

    def user_task(self, bpmn_id: str) -> UserTaskDefinition | None:
        return next((task for task in self.user_tasks if task.bpmn_id == bpmn_id), None)


@dataclass(frozen=True)
class ReadyTask:
    """A user task waiting for a person.

    `id` is unique per instance and per pass through a loop; `data` is a copy of the task's data
    (the process variables as this task sees them, including a multi-instance item).
    """

    id: str
    bpmn_id: str
    name: str
    lane: str
    due_at: datetime | None
    outcomes: tuple[Outcome, ...]
    documentation: str | None
    instance_variable: str | None
    data: Mapping[str, Any]

    @property
    def instance_item(self) -> Any:
        """The item this multi-instance task is for (e.g. the consulted unit), or None."""
        if self.instance_variable is None:
            return None
        return self.data.get(self.instance_variable)


@dataclass(frozen=True)
class ThrownEvent:
    """An event the circuit threw and did not catch itself: the service layer must act on it.

    `kind` is `escalation`, `message`, `signal` or `error`. When it was thrown from a boundary
    event (a deadline), `task_bpmn_id` names the activity it is attached to and `task_id` the
    instance of that activity when it is a single user task.
    """

    kind: str
    name: str
    code: str | None
    source_bpmn_id: str
    task_bpmn_id: str | None
    task_id: str | None


@dataclass(frozen=True)
class Snapshot:
    """Where an instance stands after a step.

    `state` is compact JSON of the instance only; the definition is stored once elsewhere and given
    back with the state. `data` is the process data as of the last completed step.
    """

    process_id: str
    sha256: str
    state: str
    ready_tasks: tuple[ReadyTask, ...]
    next_wakeup: datetime | None
    events: tuple[ThrownEvent, ...]
    finished: bool
    end_events: tuple[str, ...]
    data: Mapping[str, Any]
