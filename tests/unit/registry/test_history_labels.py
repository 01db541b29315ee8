"""Every event the mail page's history can show is worded in French, never as its raw code."""

from __future__ import annotations

import pytest

from ged.domain.model import AuditAction
from web.mail.labels import action_label

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
