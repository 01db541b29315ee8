"""The saved state's formats: format 2 is written, format 1 (saved by earlier releases) still loads.

`states/incoming_mail_format1.json` is a state as the previous release wrote it, after dispatch,
a request for two opinions and the first opinion: one opinion is still to give.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.unit.workflows.builders import INCOMING_MAIL_PATH, NOW, Instance, circuit_xml
from workflows.engine import STATE_FORMAT, CircuitEngine, StateSerializer
from workflows.errors import InvalidState
from workflows.model import Circuit

FORMAT_1_STATE = (Path(__file__).parent / "states" / "incoming_mail_format1.json").read_text()
PATH = INCOMING_MAIL_PATH
SUBPROCESS = (
    '<bpmn:startEvent id="begin"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="inner"/>'
    '<bpmn:subProcess id="inner" name="Inner">'
    '<bpmn:startEvent id="inner_begin"/>'
    '<bpmn:sequenceFlow id="g1" sourceRef="inner_begin" targetRef="work"/>'
    '<bpmn:userTask id="work" name="Work"/>'
    '<bpmn:sequenceFlow id="g2" sourceRef="work" targetRef="inner_done"/>'
    '<bpmn:endEvent id="inner_done"/>'
    "</bpmn:subProcess>"
    '<bpmn:sequenceFlow id="f2" sourceRef="inner" targetRef="done"/>'
    '<bpmn:endEvent id="done"/>'
)


def format_1(serializer: StateSerializer, workflow: Any, circuit: Circuit) -> str:
    """The state as the previous release saved it: SpiffWorkflow's converter minus the specs."""
    serializer.registry._encoder_mode = True
    try:
        dct = serializer.to_dict(workflow)
    finally:
        serializer.registry._encoder_mode = False
    dct[serializer.VERSION_KEY] = serializer.VERSION
    dct["ged"] = {"format": 1, "process_id": circuit.process_id, "sha256": circuit.sha256}
    return json.dumps(dct, cls=serializer._encoder_cls, separators=(",", ":"))


def test_the_engine_writes_format_2(engine: CircuitEngine, incoming_mail: bytes) -> None:
    snapshot = engine.start(incoming_mail, {"mail_id": 1}, NOW)
    state = json.loads(snapshot.state)

    assert STATE_FORMAT == 2
    assert state["ged"]["format"] == 2
    assert isinstance(state["tasks"], list)
    assert "typed" not in state


def test_a_state_saved_by_the_previous_release_runs_to_its_end(
    engine: CircuitEngine, incoming_mail: bytes
) -> None:
    assert json.loads(FORMAT_1_STATE)["ged"]["format"] == 1

    waking = engine.wake(incoming_mail, FORMAT_1_STATE, NOW)
    assert [t.bpmn_id for t in waking.ready_tasks] == ["give_opinion"]
    assert waking.ready_tasks[0].data["consulted_unit"] == "audit"

    state = FORMAT_1_STATE
    for bpmn_id, data in PATH[3:]:
        snapshot = engine.wake(incoming_mail, state, NOW)
        task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
        after = engine.complete(incoming_mail, state, task.id, data, NOW)
        assert json.loads(after.state)["ged"]["format"] == 2
        state = after.state
    assert after.finished
    assert after.end_events == ("answered",)
    # The deadline of 10 days set at dispatch still holds for the processing done after it.
    processing = [t for t in json.loads(state)["tasks"] if t[4] == "processing_deadline_reached"]
    assert {t[7]["event_value"] for t in processing if len(t) > 7 and t[7]} == {
        "2026-12-03T09:00:00+00:00"
    }


def test_both_formats_load_to_the_same_instance_at_every_step(
    engine: CircuitEngine, incoming_mail: bytes
) -> None:
    serializer = StateSerializer()
    parsed = engine._parsed(incoming_mail)
    scripts = engine._script_engine(NOW)
    snapshot = engine.start(incoming_mail, {"mail_id": 1, "tags": {"a": [1, 2]}}, NOW)
    for bpmn_id, data in PATH:
        workflow = serializer.loads(snapshot.state, parsed, scripts)
        old = format_1(serializer, workflow, parsed.circuit)

        assert serializer.dumps(workflow, parsed.circuit) == snapshot.state, bpmn_id
        from_old = serializer.loads(old, parsed, scripts)
        assert serializer.dumps(from_old, parsed.circuit) == snapshot.state, bpmn_id
        assert engine.wake(incoming_mail, old, NOW).ready_tasks == snapshot.ready_tasks

        task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
        snapshot = engine.complete(incoming_mail, snapshot.state, task.id, data, NOW)
    assert snapshot.end_events == ("answered",)


def test_values_json_cannot_hold_are_kept_and_the_state_says_so(
    engine: CircuitEngine, incoming_mail: bytes
) -> None:
    serializer = StateSerializer()
    parsed = engine._parsed(incoming_mail)
    scripts = engine._script_engine(NOW)
    snapshot = engine.start(incoming_mail, {"mail_id": 1}, NOW)
    workflow = serializer.loads(snapshot.state, parsed, scripts)
    ready = next(t for t in workflow.tasks.values() if t.task_spec.name == "dispatch")
    ready.data["received"] = datetime(2026, 11, 20, 8, 30, tzinfo=UTC)

    state = serializer.dumps(workflow, parsed.circuit)

    assert json.loads(state)["typed"] is True
    again = serializer.loads(state, parsed, scripts)
    dispatch = next(t for t in again.tasks.values() if t.task_spec.name == "dispatch")
    assert dispatch.data["received"] == datetime(2026, 11, 20, 8, 30, tzinfo=UTC)
    assert serializer.dumps(again, parsed.circuit) == state


def test_an_instance_inside_a_subprocess_survives_saving() -> None:
    engine = CircuitEngine()
    definition = circuit_xml(SUBPROCESS)
    instance = Instance(engine, definition, {"n": 1})
    assert json.loads(instance.state)["subprocesses"]

    again = engine.wake(definition, instance.state, NOW)
    assert again.state == instance.state
    assert instance.ready() == ["work"]

    instance.complete("work", note="done")
    assert instance.snapshot.end_events == ("done",)


@pytest.mark.parametrize(
    "change",
    [
        lambda state: state["tasks"][3].__setitem__(4, "no_such_step"),
        lambda state: state["tasks"][3].__setitem__(1, 40),
        lambda state: state.pop("root"),
    ],
    ids=["unknown step", "unknown parent", "no root"],
)
def test_a_damaged_format_2_state_is_refused(
    engine: CircuitEngine, incoming_mail: bytes, change: Any
) -> None:
    snapshot = engine.start(incoming_mail, {"mail_id": 1}, NOW)
    state = json.loads(snapshot.state)
    change(state)

    with pytest.raises(InvalidState, match="does not fit"):
        engine.wake(incoming_mail, json.dumps(state), NOW)
