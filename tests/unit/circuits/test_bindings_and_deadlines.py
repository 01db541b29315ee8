"""Lane bindings as written by an administrator, French circuit errors, deadline moments."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from ged.adapters.orm import BINDING_KINDS, TASK_STATES
from ged.domain.errors import ValidationError
from ged.services.circuits import DEFAULT_BINDINGS, Binding, BindingKind, french_circuit_error
from ged.services.tasks import OUTCOME_LABELS, TaskState, deadline_at, due_date
from workflows.engine import BUNDLED_CIRCUITS, bundled_definition, load_circuit
from workflows.errors import InvalidCircuit

CASABLANCA = ZoneInfo("Africa/Casablanca")


def test_the_binding_kinds_are_the_ones_the_database_accepts() -> None:
    assert tuple(kind.value for kind in BindingKind) == BINDING_KINDS
    assert tuple(state.value for state in TaskState) == TASK_STATES


@pytest.mark.parametrize(
    ("text", "binding"),
    [
        ("unit:SAU", Binding(BindingKind.UNIT, "SAU")),
        (" role : registrar ", Binding(BindingKind.ROLE, "registrar")),
        ("top_unit_manager", Binding(BindingKind.TOP_UNIT_MANAGER)),
        ("data_user:approver", Binding(BindingKind.DATA_USER, "approver")),
    ],
)
def test_a_binding_reads_as_kind_and_value(text: str, binding: Binding) -> None:
    assert Binding.parse(text) == binding
    assert Binding.parse(str(binding)) == binding


def test_an_unknown_binding_kind_lists_the_known_ones() -> None:
    with pytest.raises(ValidationError, match=r"Affectation inconnue « boss ».*top_unit_manager"):
        Binding.parse("boss:DG")


@pytest.mark.parametrize("process_id", BUNDLED_CIRCUITS)
def test_every_lane_of_the_bundled_circuits_has_a_default_binding(process_id: str) -> None:
    circuit = load_circuit(bundled_definition(process_id))

    assert set(circuit.lanes) <= set(DEFAULT_BINDINGS)
    for task in circuit.user_tasks:
        for outcome in task.outcomes:
            assert outcome.name in OUTCOME_LABELS


@pytest.mark.parametrize(
    ("bpmn", "french"),
    [
        (b"", "Le fichier est vide"),
        (b"<a>", "n'est pas un XML bien formé"),
        (b"<!DOCTYPE a><a/>", "déclare un DOCTYPE"),
        (b"<a/>", "n'est pas un diagramme BPMN 2.0"),
    ],
)
def test_refused_circuits_are_explained_in_french_with_the_detail(bpmn: bytes, french: str) -> None:
    with pytest.raises(InvalidCircuit) as refused:
        load_circuit(bpmn)

    message = french_circuit_error(refused.value)

    assert message.index(french) < message.index("Détail :")
    assert f"Détail : {refused.value}" in message


def test_a_deadline_is_the_start_of_the_next_day_in_agency_time() -> None:
    moment = deadline_at(dt.date(2026, 12, 4), CASABLANCA)

    assert moment.isoformat() == "2026-12-05T00:00:00+01:00"
    assert due_date(moment, CASABLANCA) == dt.date(2026, 12, 4)
    assert due_date(moment - dt.timedelta(seconds=1), CASABLANCA) == dt.date(2026, 12, 4)
    assert due_date(moment + dt.timedelta(seconds=1), CASABLANCA) == dt.date(2026, 12, 5)


def test_a_deadline_follows_the_offset_of_its_own_day() -> None:
    # Morocco moves to UTC+0 during Ramadan: the deadline keeps local midnight.
    ramadan = deadline_at(dt.date(2026, 3, 1), CASABLANCA)

    assert ramadan.hour == 0
    assert due_date(ramadan, CASABLANCA) == dt.date(2026, 3, 1)
