"""Timer events that read the caller's clock, and the parsing of timer values.

SpiffWorkflow's timer event definitions call `datetime.now()` both to start a duration and to
decide whether it has passed. These subclasses ask the workflow's script engine for `now` instead
(see `workflows.scripting.CircuitScriptEngine`), so a step at a given `now` always gives the same
deadlines and tests can move time forward without sleeping.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from workflows.errors import ExpressionError

MAX_DELAY: Final = timedelta(days=3660)
_DURATION = re.compile(
    r"P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?", re.IGNORECASE
)
# Rough sizes in days, only to refuse absurd durations before SpiffWorkflow loops over months.
_DAYS_PER_UNIT: Final = {
    "years": 366,
    "months": 31,
    "weeks": 7,
    "days": 1,
    "hours": 1 / 24,
    "minutes": 1 / 1440,
    "seconds": 1 / 86400,
}


def is_iso_literal(text: str) -> bool:
    """True for an unquoted ISO-8601 duration or aware datetime, as modelers write them (`P3D`)."""
    candidate = text.strip()
    if _DURATION.fullmatch(candidate):
        return True
    try:
        datetime.fromisoformat(candidate)
    except ValueError:
        return False
    return True


def parse_deadline(value: object, start: datetime) -> datetime:
    """The moment a timer fires, in UTC.

    `value` is an ISO-8601 duration counted from `start` (`P10D`, `PT4H`) or an ISO-8601 datetime
    with a UTC offset (`2026-12-01T17:00:00+01:00`): a fixed deadline, which is what a working-day
    calendar produces and what survives a task being redone.
    """
    if not isinstance(value, str):
        raise ExpressionError(
            f"A timer needs an ISO-8601 duration (such as 'P10D') or date-time, not {value!r}."
        )
    text = value.strip()
    if text[:1] in ("P", "p"):
        return start + _parse_duration(text, start)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ExpressionError(
            f"The timer value {text!r} is neither an ISO-8601 duration (such as 'P10D') "
            "nor an ISO-8601 date-time."
        ) from None
    if moment.tzinfo is None:
        raise ExpressionError(
            f"The timer date {text!r} has no UTC offset: write it as 2026-12-01T17:00:00+01:00 "
            "so the deadline does not depend on the server's time zone."
        )
    return moment.astimezone(UTC)


def _parse_duration(text: str, start: datetime) -> timedelta:
    invalid = ExpressionError(
        f"The timer duration {text!r} is not an ISO-8601 duration such as 'P10D' or 'PT4H'."
    )
    if not _DURATION.fullmatch(text):
        raise invalid
    try:
        parsed: dict[str, Any] = TimerEventDefinition.parse_iso_duration(text)
    except Exception:  # SpiffWorkflow raises a bare Exception for a bad duration.
        raise invalid from None
    days = sum(float(parsed.get(unit, 0)) * size for unit, size in _DAYS_PER_UNIT.items())
    if days > MAX_DELAY.days:
        raise ExpressionError(f"The timer duration {text!r} is longer than {MAX_DELAY.days} days.")
    delta: timedelta = TimerEventDefinition.get_timedelta_from_start(parsed, start)
    return delta


def _now(my_task: Any) -> datetime:
    now = getattr(my_task.workflow.top_workflow.script_engine, "now", None)
    if isinstance(now, datetime):
        return now
    # A plain SpiffWorkflow script engine (e.g. the benchmark's baseline) has no clock of its own.
    return datetime.now(UTC)


class ClockedTimer:
    """Mixin: compute the deadline once from the caller's `now`, fire when `now` reaches it."""

    expression: str

    def has_fired(self, my_task: Any) -> bool:
        due = my_task._get_internal_data("event_value")
        now = _now(my_task)
        if due is None:
            due = self.deadline(my_task, now).isoformat()
            my_task._set_internal_data(event_value=due)
        if datetime.fromisoformat(due) <= now:
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))

    def deadline(self, my_task: Any, now: datetime) -> datetime:
        if is_iso_literal(self.expression):
            value: object = self.expression.strip()
        else:
            value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        return parse_deadline(value, now)


class ClockedDurationTimer(ClockedTimer, DurationTimerEventDefinition):  # type: ignore[misc]
    """A `timeDuration` timer on the caller's clock; also accepts a fixed date-time value."""


class ClockedDateTimer(ClockedTimer, TimeDateEventDefinition):  # type: ignore[misc]
    """A `timeDate` timer on the caller's clock; also accepts a duration value."""


def due_at(internal_data: dict[str, Any]) -> datetime | None:
    """The deadline a clocked timer task computed, if it has computed one."""
    value = internal_data.get("event_value")
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
