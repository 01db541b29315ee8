"""The completion form of a task: which input each circuit variable gets, and reading it back.

A task's outcomes name the variables they need (``requires``); the circuits use a small set of
names (``addressed_unit``, ``consulted_units``, ``processing_deadline``, ``approvers``,
``signatory``, ``reviewer``, ``version``, ``chrono``). Each gets the input a person can fill
without knowing ids or codes; any other name gets a plain text input. What a value may be is the
service's call: this module only turns the browser's strings into the values the service takes.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from ged.domain.errors import ValidationError
from ged.services.tasks import RESERVED_VARIABLES, OutcomeChoice, TaskDetail
from web.i18n import N_, translate

MAX_TEXT = 500
# Circuit variables are posted as "var-<name>": a circuit may name a variable "version" or
# "comment", which must not collide with the form's own fields.
PREFIX = "var-"
# How many ordered pickers a list of people gets beyond the ones already filled.
SPARE_PICKERS = 2


class FieldKind(enum.StrEnum):
    UNIT = "unit"
    UNITS = "units"
    USER = "user"
    USERS = "users"
    DEADLINE = "deadline"
    VERSION = "version"
    TEXT = "text"
    FIXED = "fixed"  # set by ged (e.g. the chrono): shown, never sent


KNOWN: Mapping[str, tuple[FieldKind, str]] = {
    "addressed_unit": (FieldKind.UNIT, N_("Entité chargée du traitement")),
    "consulted_units": (FieldKind.UNITS, N_("Entités consultées pour avis")),
    "approvers": (FieldKind.USERS, N_("Viseurs, dans l'ordre des visas")),
    "signatory": (FieldKind.USER, N_("Signataire")),
    "reviewer": (FieldKind.USER, N_("Relecteur")),
    "approver": (FieldKind.USER, N_("Viseur")),
    "version": (FieldKind.VERSION, N_("Version soumise")),
    "processing_deadline": (FieldKind.DEADLINE, N_("Échéance du traitement")),
}


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input of the completion form, with the value to show and the outcomes needing it."""

    name: str
    label: str
    kind: FieldKind
    value: str  # single-valued kinds
    values: tuple[str, ...]  # list kinds, in order
    outcomes: tuple[str, ...]  # names of the outcomes that require it
    choices: tuple[Choice, ...] = ()

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def pickers(self) -> tuple[str, ...]:
        """The values of the ordered pickers of a list of people: the filled ones, then spares."""
        return (*self.values, *([""] * SPARE_PICKERS))


def kind_of(name: str) -> tuple[FieldKind, str]:
    if name in RESERVED_VARIABLES:
        return FieldKind.FIXED, N_("Numéro d'ordre") if name == "chrono" else name
    if name in KNOWN:
        return KNOWN[name]
    if name.endswith("_deadline"):
        return FieldKind.DEADLINE, N_("Échéance")
    return FieldKind.TEXT, name.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Options:
    """The lists a form picks from: units, people, a document's versions."""

    units: Sequence[tuple[int, str, str]]  # id, code, name
    people: Sequence[tuple[int, str, str]]  # id, username, full name
    versions: Sequence[tuple[int, int]] = ()  # id, number


def _as_unit_id(value: Any, options: Options) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if text.isdigit():
        return text
    for unit_id, code, _name in options.units:
        if code.upper() == text.upper():
            return str(unit_id)
    return text


def _as_user_id(value: Any, options: Options) -> str:
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if text.isdigit():
        return text
    for user_id, username, _name in options.people:
        if username.lower() == text.lower():
            return str(user_id)
    return text


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    return [] if value in (None, "") else [value]


def field_value(
    kind: FieldKind, value: Any, options: Options, due_date: Callable[[dt.datetime], dt.date]
) -> tuple[str, tuple[str, ...]]:
    """The circuit's current value as the form shows it (single value, list values)."""
    if kind is FieldKind.UNIT:
        return _as_unit_id(value, options), ()
    if kind is FieldKind.USER:
        return _as_user_id(value, options), ()
    if kind is FieldKind.UNITS:
        return "", tuple(_as_unit_id(v, options) for v in _as_list(value))
    if kind is FieldKind.USERS:
        return "", tuple(_as_user_id(v, options) for v in _as_list(value))
    if kind is FieldKind.DEADLINE and isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value, ()
        if moment.tzinfo is None:
            return value, ()
        return due_date(moment).isoformat(), ()
    if value is None or isinstance(value, bool):
        return "", ()
    return str(value), ()


def describe(
    detail: TaskDetail,
    options: Options,
    due_date: Callable[[dt.datetime], dt.date],
    posted: MultiDict[str, str] | None = None,
) -> tuple[FormField, ...]:
    """The inputs of a task's form, in the order its outcomes first name them.

    `posted` (a refused submission) wins over the circuit's values, so nothing typed is lost.
    """
    needed: dict[str, list[str]] = {}
    for outcome in detail.outcomes:
        for name in outcome.requires:
            needed.setdefault(name, []).append(outcome.name)
    fields = []
    for name, outcomes in needed.items():
        kind, label = kind_of(name)
        value, values = field_value(kind, detail.form_data.get(name), options, due_date)
        if posted is not None and kind is not FieldKind.FIXED:
            if kind in (FieldKind.UNITS, FieldKind.USERS):
                values = tuple(v for v in posted.getlist(PREFIX + name) if v)
            else:
                value = posted.get(PREFIX + name, "")
        fields.append(
            FormField(
                name=name,
                label=label,
                kind=kind,
                value=value,
                values=values,
                outcomes=tuple(outcomes),
                choices=_choices(kind, options),
            )
        )
    return tuple(fields)


def _choices(kind: FieldKind, options: Options) -> tuple[Choice, ...]:
    if kind in (FieldKind.UNIT, FieldKind.UNITS):
        return tuple(Choice(str(i), f"{code} · {name}") for i, code, name in options.units)
    if kind in (FieldKind.USER, FieldKind.USERS):
        return tuple(Choice(str(i), f"{name} ({username})") for i, username, name in options.people)
    if kind is FieldKind.VERSION:
        return tuple(
            Choice(str(i), _("Version %(number)s", number=number)) for i, number in options.versions
        )
    return ()


def _number(name: str, label: str, text: str) -> int:
    if not text.isdigit():
        raise ValidationError(
            _("« %(field)s » : choisissez une valeur dans la liste.", field=translate(label)), name
        )
    return int(text)


def read(
    outcomes: Iterable[OutcomeChoice], outcome: str, form: MultiDict[str, str]
) -> dict[str, Any]:
    """The values the chosen outcome requires, read from the posted form.

    Only that outcome's fields go to the service: a value typed for another outcome (say the
    units to consult, when the person finally answers) must not reach the circuit.
    """
    chosen = next((o for o in outcomes if o.name == outcome), None)
    if chosen is None:
        return {}  # the service names the outcomes on offer
    data: dict[str, Any] = {}
    for name in chosen.requires:
        kind, label = kind_of(name)
        if kind is FieldKind.FIXED:
            continue
        if kind in (FieldKind.UNITS, FieldKind.USERS):
            picked = [v.strip() for v in form.getlist(PREFIX + name) if v.strip()]
            if not picked:
                raise ValidationError(_needs(chosen.label, label), name)
            data[name] = [_number(name, label, v) for v in picked]
            continue
        text = (form.get(PREFIX + name) or "").strip()
        if not text:
            raise ValidationError(_needs(chosen.label, label), name)
        if kind in (FieldKind.UNIT, FieldKind.USER, FieldKind.VERSION):
            data[name] = _number(name, label, text)
        elif kind is FieldKind.DEADLINE:
            try:
                dt.date.fromisoformat(text)
            except ValueError:
                raise ValidationError(
                    _(
                        "« %(field)s » : donnez une date au format AAAA-MM-JJ.",
                        field=translate(label),
                    ),
                    name,
                ) from None
            data[name] = text
        else:
            data[name] = text[:MAX_TEXT]
    return data


def _needs(outcome: str, field: str) -> str:
    return str(
        _(
            "« %(outcome)s » demande de remplir « %(field)s ».",
            outcome=translate(outcome),
            field=translate(field),
        )
    )
