"""Every event the mail page's history can show is worded in French, never as its raw code."""

from __future__ import annotations

import pytest

from ged.domain.model import AuditAction
from ged.services.tasks import OUTCOME_LABELS
from web.mail.labels import action_detail, action_label

HISTORY_ACTIONS = [
    action
    for action in AuditAction
    if action.value.split(".")[0] in {"mail", "document", "version", "circuit", "task"}
    or action is AuditAction.DRAFT_QUALIFIED
]


@pytest.mark.parametrize("action", HISTORY_ACTIONS, ids=lambda action: action.value)
def test_history_events_have_a_french_label(action: AuditAction) -> None:
    label = action_label(action)
    assert label != action.value
    assert label[0].isupper()


def test_a_completed_step_names_the_step_its_outcome_and_the_comment() -> None:
    details = {"task": 7, "name": "Visa", "outcome": "return", "comment": "pièce manquante"}

    line = action_detail(AuditAction.TASK_COMPLETED, details)

    assert line == f"Visa — {OUTCOME_LABELS['return']} : pièce manquante"


def test_a_claimed_task_names_its_step() -> None:
    assert action_detail(AuditAction.TASK_CLAIMED, {"task": 7, "name": "Traitement"}) == (
        "Traitement"
    )
