"""The completion form's inputs: built from a task's outcomes, read back for the chosen one only.

Pure functions of `web.tasks.fields`: no database, no app.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from werkzeug.datastructures import MultiDict

from ged.domain.errors import ValidationError
from ged.services.tasks import OutcomeChoice, TaskDetail, TaskKind, TaskState, TaskSummary
from web.tasks.fields import FieldKind, Options, describe, read

OPTIONS = Options(
    units=[(1, "DG", "Direction"), (2, "SAU", "Autorisations"), (3, "SJ", "Juridique")],
    people=[(10, "chef", "Le chef"), (11, "directeur", "Le directeur")],
    versions=[(40, 2), (39, 1)],
)
DISPATCH = (
    OutcomeChoice("dispatch", "Dispatcher", ("addressed_unit", "processing_deadline")),
    OutcomeChoice("file", "Classer sans suite", ()),
)
PROCESS = (
    OutcomeChoice("answer", "Répondre", ()),
    OutcomeChoice("consult", "Demander des avis", ("consulted_units",)),
)


def detail(outcomes: tuple[OutcomeChoice, ...], form_data: dict[str, Any]) -> TaskDetail:
    now = dt.datetime(2026, 11, 23, 9, tzinfo=dt.UTC)
    summary = TaskSummary(
        1, 1, TaskKind.USER, "Tâche", "t", TaskState.OPEN, None, None, "", False, None,
        None, None, None, None, None, None, False, False, now,
    )  # fmt: skip
    return TaskDetail(
        summary, "lane", None, outcomes, form_data, None, "", None, None, (), None,
        True, False, False, False,
    )  # fmt: skip


def last_day(moment: dt.datetime) -> dt.date:
    return (moment - dt.timedelta(microseconds=1)).date()


def test_the_circuits_values_are_shown_as_the_pickers_options() -> None:
    fields = describe(
        detail(
            DISPATCH + PROCESS + (OutcomeChoice("submit", "Soumettre", ("approvers", "chrono")),),
            {
                "addressed_unit": "sau",
                "processing_deadline": "2026-12-09T00:00:00+01:00",
                "consulted_units": [3, "DG"],
                "approvers": ["directeur", 10],
                "chrono": "D-2026-000001",
            },
        ),
        OPTIONS,
        last_day,
    )

    shown = {f.name: (f.kind, f.value, f.values) for f in fields}
    assert shown == {
        "addressed_unit": (FieldKind.UNIT, "2", ()),
        "processing_deadline": (FieldKind.DEADLINE, "2026-12-08", ()),
        "consulted_units": (FieldKind.UNITS, "", ("3", "1")),
        "approvers": (FieldKind.USERS, "", ("11", "10")),
        "chrono": (FieldKind.FIXED, "D-2026-000001", ()),
    }
    assert fields[0].outcomes == ("dispatch",)
    assert fields[0].input_name == "var-addressed_unit"


def test_a_refused_submission_shows_what_was_typed() -> None:
    posted = MultiDict([("var-addressed_unit", "3"), ("var-consulted_units", "1")])

    fields = describe(detail(DISPATCH + PROCESS, {"addressed_unit": 2}), OPTIONS, last_day, posted)

    shown = {f.name: (f.value, f.values) for f in fields}
    assert shown["addressed_unit"] == ("3", ())
    assert shown["consulted_units"] == ("", ("1",))


def test_only_the_chosen_outcomes_values_are_read() -> None:
    form = MultiDict(
        [
            ("var-addressed_unit", "2"),
            ("var-processing_deadline", "2026-12-08"),
            ("var-consulted_units", "3"),
        ]
    )

    assert read(DISPATCH + PROCESS, "dispatch", form) == {
        "addressed_unit": 2,
        "processing_deadline": "2026-12-08",
    }
    assert read(DISPATCH + PROCESS, "file", form) == {}
    assert read(DISPATCH + PROCESS, "consult", form) == {"consulted_units": [3]}
    assert read(DISPATCH, "unknown", form) == {}  # the service names the choices


def test_ordered_pickers_keep_their_order_and_skip_the_empty_ones() -> None:
    submit = (OutcomeChoice("submit", "Soumettre", ("approvers", "signatory", "chrono")),)
    form = MultiDict(
        [
            ("var-approvers", "11"),
            ("var-approvers", ""),
            ("var-approvers", "10"),
            ("var-signatory", "11"),
            ("var-chrono", "A-2026-000009"),
        ]
    )

    # The chrono is ged's: never read from a form.
    assert read(submit, "submit", form) == {"approvers": [11, 10], "signatory": 11}


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ([("var-processing_deadline", "2026-12-08")], "Entité chargée du traitement"),
        ([("var-addressed_unit", "SAU"), ("var-processing_deadline", "2026-12-08")], "liste"),
        ([("var-addressed_unit", "2"), ("var-processing_deadline", "8/12/2026")], "AAAA-MM-JJ"),
    ],
)
def test_a_missing_or_malformed_value_is_refused_with_its_label(
    form: list[tuple[str, str]], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        read(DISPATCH, "dispatch", MultiDict(form))
