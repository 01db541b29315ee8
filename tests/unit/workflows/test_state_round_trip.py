"""Loading a saved state and saving it again gives the same text, at every step of a path.

The engine parses task ids through a shared cache and copies process data by hand (both for
speed); a difference between what was saved and what was loaded would show here first.
"""

from __future__ import annotations

import json

from tests.unit.workflows.builders import INCOMING_MAIL_PATH, NOW
from workflows.engine import CircuitEngine, bundled_definition

# Up to the last visa: the state is compared before each step.
PATH = INCOMING_MAIL_PATH[:-1]


def test_a_state_survives_loading_and_saving_unchanged_at_every_step() -> None:
    engine = CircuitEngine()
    definition = bundled_definition("incoming_mail")
    snapshot = engine.start(definition, {"mail_id": 1, "tags": {"a": [1, 2]}}, NOW)
    for bpmn_id, data in PATH:
        # Nothing is due yet: waking only loads and saves the state.
        again = engine.wake(definition, snapshot.state, NOW)
        assert json.loads(again.state) == json.loads(snapshot.state), bpmn_id
        assert again.ready_tasks == snapshot.ready_tasks
        task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
        snapshot = engine.complete(definition, snapshot.state, task.id, data, NOW)


def test_the_data_of_a_snapshot_shares_nothing() -> None:
    engine = CircuitEngine()
    definition = bundled_definition("incoming_mail")
    snapshot = engine.start(definition, {"mail_id": 1, "tags": {"a": [1, 2]}}, NOW)
    ready = snapshot.ready_tasks[0]

    ready.data["tags"]["a"].append(3)

    assert snapshot.data["tags"] == {"a": [1, 2]}
    again = engine.wake(definition, snapshot.state, NOW)
    assert again.ready_tasks[0].data["tags"] == {"a": [1, 2]}
