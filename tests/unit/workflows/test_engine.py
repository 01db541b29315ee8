"""The engine facade: snapshots and their state, refused steps that change nothing, limits."""

from __future__ import annotations

import builtins
import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState

from tests.unit.workflows.builders import NOW, Instance, circuit_xml, gateway_xml, timer_xml
from workflows import engine as engine_module
from workflows.engine import CircuitEngine, bundled_definition
from workflows.errors import (
    ExpressionError,
    ExpressionTimeout,
    InvalidState,
    InvalidTaskData,
    TaskNotReady,
)
from workflows.expressions import Evaluator
from workflows.parsing import MAX_INSTANCES, parse_circuit

DISPATCH = {"outcome": "dispatch", "addressed_unit": "finance", "processing_deadline": "P10D"}


@pytest.fixture
def mail(engine: CircuitEngine, incoming_mail: bytes) -> Instance:
    return Instance(engine, incoming_mail, {"mail_id": 42})


# State: the instance without its spec.


def test_state_is_compact_json_without_the_spec(mail: Instance) -> None:
    mail.complete("dispatch", **DISPATCH)
    state = json.loads(mail.state)

    assert "spec" not in state
    assert "subprocess_specs" not in state
    assert state["ged"]["process_id"] == "incoming_mail"
    assert state["ged"]["sha256"] == mail.snapshot.sha256
    assert ", " not in mail.state[:200]


def test_state_is_much_smaller_than_spiffworkflows_default(
    mail: Instance, incoming_mail: bytes
) -> None:
    mail.complete("dispatch", **DISPATCH)
    parser = BpmnParser()
    parser.add_bpmn_str(incoming_mail)
    workflow = BpmnWorkflow(parser.get_spec("incoming_mail"))
    workflow.do_engine_steps()
    dispatch = workflow.get_next_task(state=TaskState.READY, manual=True)
    dispatch.data.update(DISPATCH)
    dispatch.run()
    workflow.do_engine_steps()
    with_spec = BpmnWorkflowSerializer().serialize_json(workflow)

    assert len(mail.state) < len(with_spec) / 2


def test_state_round_trips_through_json_and_the_cached_spec(
    engine: CircuitEngine, mail: Instance
) -> None:
    mail.complete("dispatch", **DISPATCH)
    reloaded = json.loads(json.dumps(json.loads(mail.state)))

    snapshot = engine.wake(mail.definition, json.dumps(reloaded), NOW)

    assert [t.id for t in snapshot.ready_tasks] == [t.id for t in mail.snapshot.ready_tasks]
    assert snapshot.ready_tasks[0].due_at == mail.snapshot.ready_tasks[0].due_at
    assert [row[0] for row in json.loads(snapshot.state)["tasks"]] == [
        row[0] for row in reloaded["tasks"]
    ]


def test_a_state_survives_a_new_process_with_a_fresh_engine(mail: Instance) -> None:
    mail.complete("dispatch", **DISPATCH)
    fresh = CircuitEngine()
    task = mail.task("process")

    snapshot = fresh.complete(mail.definition, mail.state, task.id, {"outcome": "answer"}, NOW)

    assert [t.bpmn_id for t in snapshot.ready_tasks] == ["visa"]


def test_snapshot_reports_the_process_data_of_the_last_step(mail: Instance) -> None:
    snapshot = mail.complete("dispatch", **DISPATCH)
    assert snapshot.data["addressed_unit"] == "finance"
    assert snapshot.data["dispatch_outcome"] == "dispatch"


def test_the_callers_data_is_copied_not_shared(engine: CircuitEngine, incoming_mail: bytes) -> None:
    data = {"mail_id": 1, "tags": ["urgent"]}
    snapshot = engine.start(incoming_mail, data, NOW)
    data["tags"].append("changed")

    assert snapshot.ready_tasks[0].data["tags"] == ["urgent"]


# Refused steps: a clear error and the state unchanged.


def test_completing_an_unknown_task_is_refused(engine: CircuitEngine, mail: Instance) -> None:
    with pytest.raises(TaskNotReady, match="There is no task"):
        engine.complete(
            mail.definition, mail.state, "00000000-0000-4000-8000-000000000000", {}, NOW
        )


def test_a_task_id_that_is_not_an_id_is_refused(engine: CircuitEngine, mail: Instance) -> None:
    with pytest.raises(TaskNotReady, match="There is no task 'dispatch'"):
        engine.complete(mail.definition, mail.state, "dispatch", {"outcome": "file"}, NOW)


def test_completing_a_task_twice_is_refused_and_changes_nothing(
    engine: CircuitEngine, mail: Instance
) -> None:
    dispatch = mail.task("dispatch")
    mail.complete("dispatch", **DISPATCH)
    state = mail.state

    with pytest.raises(TaskNotReady, match="already done"):
        engine.complete(mail.definition, state, dispatch.id, DISPATCH, NOW)

    assert mail.state == state
    assert engine.wake(mail.definition, state, NOW).ready_tasks == mail.snapshot.ready_tasks


def test_completing_a_task_an_interrupting_timer_cancelled_is_refused(
    engine: CircuitEngine,
) -> None:
    instance = Instance(engine, timer_xml("P1D", interrupting=True))
    work = instance.task("work")
    instance.wake(NOW + timedelta(days=2))
    assert instance.snapshot.end_events == ("late",)

    with pytest.raises(TaskNotReady, match="was cancelled"):
        engine.complete(instance.definition, instance.state, work.id, {}, NOW)


def test_completing_a_task_not_reached_yet_is_refused(
    engine: CircuitEngine, mail: Instance
) -> None:
    before_dispatch = mail.state
    mail.complete("dispatch", **DISPATCH)
    processing = mail.task("process")

    with pytest.raises(TaskNotReady, match="no task"):
        engine.complete(mail.definition, before_dispatch, processing.id, {"outcome": "close"}, NOW)


def test_a_step_refused_for_bad_data_leaves_the_state_usable(
    engine: CircuitEngine, mail: Instance
) -> None:
    state = mail.state
    task = mail.task("dispatch")
    with pytest.raises(InvalidTaskData):
        engine.complete(mail.definition, state, task.id, {"outcome": "approve"}, NOW)

    snapshot = engine.complete(mail.definition, state, task.id, {"outcome": "file"}, NOW)
    assert snapshot.end_events == ("filed",)


def test_data_that_is_not_json_is_refused(engine: CircuitEngine, mail: Instance) -> None:
    task = mail.task("dispatch")
    with pytest.raises(InvalidTaskData, match="JSON values"):
        engine.complete(mail.definition, mail.state, task.id, {"outcome": "file", "at": NOW}, NOW)


def test_oversized_data_is_refused(engine: CircuitEngine, mail: Instance) -> None:
    task = mail.task("dispatch")
    with pytest.raises(InvalidTaskData, match="larger than"):
        engine.complete(
            mail.definition, mail.state, task.id, {"outcome": "file", "blob": "x" * 300_000}, NOW
        )


def test_a_state_from_another_version_of_the_circuit_is_refused(
    engine: CircuitEngine, mail: Instance
) -> None:
    other_version = mail.definition.replace(b"Traiter le courrier", b"Traiter")
    with pytest.raises(InvalidState, match="another version"):
        engine.wake(other_version, mail.state, NOW)


def test_a_state_of_another_circuit_is_refused(
    engine: CircuitEngine, mail: Instance, document_approval: bytes
) -> None:
    with pytest.raises(InvalidState, match="belongs to the circuit 'incoming_mail'"):
        engine.wake(document_approval, mail.state, NOW)


@pytest.mark.parametrize("state", ["", "{", "[]", '{"ged": {"format": 1}}', "null"])
def test_unreadable_states_are_refused(engine: CircuitEngine, mail: Instance, state: str) -> None:
    with pytest.raises(InvalidState):
        engine.wake(mail.definition, state, NOW)


def test_a_tampered_state_is_refused(engine: CircuitEngine, mail: Instance) -> None:
    state = json.loads(mail.state)
    del state["tasks"]
    with pytest.raises(InvalidState, match="does not fit"):
        engine.wake(mail.definition, json.dumps(state), NOW)


def test_now_must_be_timezone_aware(engine: CircuitEngine, incoming_mail: bytes) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        engine.start(incoming_mail, {}, datetime(2026, 11, 23, 9, 0))


# Expressions at run time go through the safe evaluator.


def test_a_condition_reading_hostile_data_is_refused_and_changes_nothing(
    engine: CircuitEngine,
) -> None:
    definition = gateway_xml("base ** power &gt; 0")
    instance = Instance(engine, definition, {"base": 9, "power": 9**9})
    state = instance.state

    with pytest.raises(ExpressionError, match="exponents are limited"):
        instance.complete("work")
    assert instance.state == state


def test_the_time_limit_applies_to_conditions_in_a_running_instance() -> None:
    ticks = itertools.count()
    slow = CircuitEngine(evaluator=Evaluator(time_limit=2.5, clock=lambda: float(next(ticks))))
    instance = Instance(slow, gateway_xml(" + ".join(["a"] * 20) + " &gt; 0"), {"a": 1})

    with pytest.raises(ExpressionTimeout, match="time limit"):
        instance.complete("work")


def test_conditions_see_the_task_data(engine: CircuitEngine) -> None:
    instance = Instance(engine, gateway_xml("amount &gt; 1000"), {"amount": 5000})
    assert instance.complete("work").end_events == ("yes",)
    instance = Instance(engine, gateway_xml("amount &gt; 1000"), {"amount": 10})
    assert instance.complete("work").end_events == ("no",)


def test_a_multi_instance_over_too_many_items_is_refused(
    engine: CircuitEngine, incoming_mail: bytes
) -> None:
    mail = Instance(engine, incoming_mail)
    mail.complete("dispatch", **DISPATCH)
    units = [f"unit_{n}" for n in range(MAX_INSTANCES + 1)]
    with pytest.raises(InvalidTaskData, match=f"at most {MAX_INSTANCES}"):
        mail.complete("process", "consult", consulted_units=units)


def test_a_circuit_without_outcomes_accepts_any_data(engine: CircuitEngine) -> None:
    instance = Instance(engine, circuit_xml())
    snapshot = instance.complete("work", note="done")
    assert snapshot.finished
    assert snapshot.end_events == ("done",)


def test_module_functions_use_one_shared_engine() -> None:
    definition = bundled_definition("document_approval")
    snapshot = engine_module.start(definition, {"version": 1}, NOW)
    task = snapshot.ready_tasks[0]
    snapshot = engine_module.complete(
        definition, snapshot.state, task.id, {"outcome": "approve"}, NOW
    )

    assert snapshot.finished
    assert engine_module.load_circuit(definition) is engine_module.default_engine().load(definition)
    assert engine_module.wake(definition, snapshot.state, NOW).finished


def test_no_step_of_a_circuit_ever_calls_python_eval_or_exec(
    engine: CircuitEngine, incoming_mail: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec reached")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    mail = Instance(engine, incoming_mail)
    mail.complete("dispatch", **DISPATCH)
    mail.wake(NOW + timedelta(days=11))
    mail.complete("process", "consult", consulted_units=["legal"])
    mail.complete("give_opinion", "opinion")
    mail.complete("process", "answer")

    assert mail.complete("visa", "approve").finished


def test_loop_bookkeeping_is_wired_before_the_spec_is_shared(outgoing_mail: bytes) -> None:
    spec = parse_circuit(outgoing_mail).spec
    chain = spec.task_specs["approve_draft"]
    instance_spec = spec.task_specs[chain.task_spec]

    assert instance_spec.completed_event.is_connected(chain.merge_child)


def test_instances_of_one_circuit_run_concurrently_on_one_engine(outgoing_mail: bytes) -> None:
    shared = CircuitEngine()

    def walk(n: int) -> tuple[str, ...]:
        mail = Instance(shared, outgoing_mail, {"n": n})
        mail.complete("draft", "submit", approvers=["a", "b", "c"], signatory="d")
        for _ in range(3):
            mail.complete("approve_draft", "approve")
        mail.complete("sign", "sign")
        return mail.complete("register", "register", chrono=f"D-2026-{n:06d}").end_events

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(walk, range(24)))

    assert results == [("sent",)] * 24
