"""The circuit engine: a small facade over SpiffWorkflow, handed its parser, serializer and scripts.

Plain values in, frozen dataclasses out, no database. Every call takes the BPMN definition (bytes,
parsed once per process and cached by content hash) and, after the first step, the state JSON the
previous call returned; it gives back a `Snapshot` whose `state` is the instance alone, without
the definition (a third of SpiffWorkflow's default on `incoming_mail`; the definition is stored
once per version).

Time: every call takes `now` (timezone-aware) and timers use it, not the wall clock, both to start
a duration and to decide that it has passed. SpiffWorkflow still stamps each task state change with
`time.time()` (`Task.last_state_change`, kept in the state JSON); nothing here reads it. Task ids are
random UUIDs.

Thread safety: the spec cache is locked; a parsed spec is shared read-only by all instances (the
one place SpiffWorkflow would mutate it lazily is wired up at parse time, see `parsing`).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from importlib import resources
from types import ModuleType
from typing import Any, Final, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import (
    ErrorEventDefinition,
    EscalationEventDefinition,
    SignalEventDefinition,
)
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent, ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from workflows import spiff_logging
from workflows.errors import (
    CircuitError,
    InvalidState,
    InvalidTaskData,
    TaskNotReady,
)
from workflows.expressions import Evaluator
from workflows.model import Circuit, ReadyTask, Snapshot, ThrownEvent, UserTaskDefinition
from workflows.parsing import ParsedCircuit, parse_circuit
from workflows.scripting import CircuitScriptEngine, SafeEnvironment
from workflows.timers import ClockedTimer, due_at
from workflows.tree import CircuitWorkflow

MAX_DATA_BYTES: Final = 256 * 1024
MAX_STATE_BYTES: Final = 16 * 1024 * 1024
MAX_AUTOMATIC_STEPS: Final = 10_000
STATE_FORMAT: Final = 2
READABLE_STATE_FORMATS: Final = (1, 2)
BUNDLED_CIRCUITS: Final = ("incoming_mail", "outgoing_mail", "document_approval")

_T = TypeVar("_T")


# -- Serialization: the instance without its spec -------------------------------------------------


# Task ids, parsed once: a state names each id about three times (the task, its parent's list
# of children, its children's parent), and `UUID(text)` is the largest single cost of a load.
# UUIDs are immutable, so one object may serve every workflow that names it.
_task_uuid: Final = functools.lru_cache(maxsize=16_384)(UUID)
spiff_logging.install()


class _TaskConverter(TaskConverter):  # type: ignore[misc]
    """SpiffWorkflow 3.2's task converter, with its ids parsed through `_task_uuid`."""

    def from_dict(self, dct: dict[str, Any], workflow: Any) -> Any:
        task_spec = workflow.spec.task_specs.get(dct["task_spec"])
        task = self.target_class(workflow, task_spec, state=dct["state"], id=_task_uuid(dct["id"]))
        parent = dct["parent"]
        task._parent = _task_uuid(parent) if parent is not None else None
        task._children = [_task_uuid(child) for child in dct["children"]]
        task.last_state_change = dct["last_state_change"]
        task.triggered = dct["triggered"]
        task.internal_data = self.registry.restore(dct["internal_data"])
        if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            task.workflow.top_workflow.event_manager.add_task(task)
        delta = dct.get("delta")
        if delta and task.parent is not None:
            data = DeepMerge.merge({}, task.parent.data)
            data.update(self.registry.restore(delta.get("updates", {})))
            for key in delta.get("deletions", {}):
                if key in data:
                    del data[key]
        else:
            data = self.registry.restore(dct["data"])
        task.data = data
        return task


class _StateOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """SpiffWorkflow's workflow converter minus the specs, which it would embed in every state."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self,
        dct: dict[str, Any],
        spec: Any = None,
        subprocess_specs: Mapping[str, Any] | None = None,
        script_engine: Any = None,
    ) -> Any:
        if spec is None:
            raise InvalidState("A saved state can only be loaded together with its circuit.")
        workflow = self.target_class(
            spec, dict(subprocess_specs or {}), script_engine=script_engine, deserializing=True
        )
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _task_uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_task_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer(BpmnWorkflowSerializer):  # type: ignore[misc]
    """Compact JSON of an instance only, tagged with the circuit it belongs to.

    Format 2 (written since) lists the tasks of the instance as arrays, in creation order, each
    naming its parent and children by their position in the list:

        [id, parent, children, state, spec name, last state change, triggered,
         internal data, data updates, data deletions]

    The last three may be left out when empty. A task's data is stored as a delta against its
    parent's (the root's in full), as SpiffWorkflow does. Values JSON cannot hold (a date in
    data set by a script) go through SpiffWorkflow's registry as `{"typename": ...}` objects, and
    the state says so (`typed`), so a state without them is loaded without walking every value.
    Subprocesses and pending BPMN events keep SpiffWorkflow's own encoding: no bundled circuit
    has them, and they are rare elsewhere.

    Format 1 (SpiffWorkflow's generic converter minus the specs) is still loaded, so instances
    saved before keep running; their next step saves them in format 2.
    """

    def __init__(self) -> None:
        config = {**DEFAULT_CONFIG, BpmnWorkflow: _StateOnlyWorkflowConverter, Task: _TaskConverter}
        super().__init__(registry=self.configure(config))
        # Our workflow class is SpiffWorkflow's with faster tree queries (`workflows.tree`): the
        # same state, converted as a BpmnWorkflow wherever SpiffWorkflow's registry meets one.
        self.registry.typenames[CircuitWorkflow] = self.registry.typenames[BpmnWorkflow]
        # The registry switches a flag while encoding: one encoding at a time.
        self._lock = threading.Lock()

    def dumps(self, workflow: Any, circuit: Circuit) -> str:
        dct = self._to_compact(workflow)
        dct["ged"] = {
            "format": STATE_FORMAT,
            "process_id": circuit.process_id,
            "sha256": circuit.sha256,
        }
        typed = False
        registry = self.registry

        def encode(value: Any) -> Any:
            nonlocal typed
            typename = registry.typenames.get(type(value))
            if typename is not None:
                typed = True
                return registry.convert_to_dict[typename](value)
            if callable(value) or isinstance(value, ModuleType):
                return None
            if isinstance(value, set):
                return list(value)
            raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

        text = json.dumps(dct, default=encode, separators=(",", ":"), ensure_ascii=False)
        if typed:
            dct["typed"] = True
            text = json.dumps(dct, default=encode, separators=(",", ":"), ensure_ascii=False)
        return text

    def loads(self, state: str, parsed: ParsedCircuit, script_engine: Any) -> Any:
        if not isinstance(state, str):
            raise InvalidState("A saved state is the JSON text a previous step returned.")
        if len(state) > MAX_STATE_BYTES:
            raise InvalidState("The saved state is too large to load.")
        try:
            dct = json.loads(state)
        except ValueError:
            raise InvalidState("The saved state is not readable JSON.") from None
        meta = dct.pop("ged", None) if isinstance(dct, dict) else None
        if not isinstance(meta, dict) or meta.get("format") not in READABLE_STATE_FORMATS:
            raise InvalidState("The saved state was not written by this circuit engine.")
        circuit = parsed.circuit
        if meta.get("process_id") != circuit.process_id:
            raise InvalidState(
                f"The saved state belongs to the circuit '{meta.get('process_id')}', "
                f"not '{circuit.process_id}'."
            )
        if meta.get("sha256") != circuit.sha256:
            raise InvalidState(
                f"The saved state was started on another version of '{circuit.process_id}' "
                "(a running instance keeps the version it started with): load it with that "
                "version's definition."
            )
        try:
            if meta["format"] == 1:
                self.migrate(dct)
                return self.registry.restore(
                    dct,
                    spec=parsed.spec,
                    subprocess_specs=parsed.subprocess_specs,
                    script_engine=script_engine,
                )
            return self._from_compact(dct, parsed, script_engine)
        except CircuitError:
            raise
        except Exception as error:
            raise InvalidState(
                f"The saved state does not fit the circuit '{circuit.process_id}': "
                f"{type(error).__name__}: {error}"
            ) from None

    # Format 2

    def _to_compact(self, workflow: Any) -> dict[str, Any]:
        tasks = workflow.tasks
        position = {task_id: n for n, task_id in enumerate(tasks)}
        clean = self.registry.clean
        rows: list[list[Any]] = []
        for task in tasks.values():
            parent = tasks.get(task._parent) if task._parent is not None else None
            data = task.data
            if parent is None:
                updates, deletions = clean(data), []
            else:
                above = parent.data
                updates = {k: v for k, v in data.items() if k not in above or above[k] != v}
                if updates:
                    updates = clean(updates)
                deletions = [k for k in above if k not in data]
            row = [
                str(task.id),
                position[task._parent] if parent is not None else None,
                [position.get(child, str(child)) for child in task._children],
                task._state,
                task.task_spec.name,
                task.last_state_change,
                task.triggered,
            ]
            if deletions:
                row += (task.internal_data, updates, deletions)
            elif updates:
                row += (task.internal_data, updates)
            elif task.internal_data:
                row.append(task.internal_data)
            rows.append(row)
        last = workflow.last_task
        dct: dict[str, Any] = {
            "tasks": rows,
            "root": position[workflow.task_tree.id],
            "last_task": position.get(last.id) if last is not None else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "data": clean(workflow.data),
            "correlations": workflow.correlations,
        }
        if workflow.subprocesses or workflow.bpmn_events:
            with self._lock:
                self.registry._encoder_mode = True
                try:
                    dct["subprocesses"] = {
                        str(k): self.registry.convert(v) for k, v in workflow.subprocesses.items()
                    }
                    dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
                finally:
                    self.registry._encoder_mode = False
        return dct

    def _from_compact(self, dct: dict[str, Any], parsed: ParsedCircuit, script_engine: Any) -> Any:
        typed = dct.get("typed") is True
        restore = self.registry.restore
        workflow = CircuitWorkflow(
            parsed.spec,
            dict(parsed.subprocess_specs),
            script_engine=script_engine,
            deserializing=True,
        )
        specs = workflow.spec.task_specs
        events = workflow.event_manager
        rows = dct["tasks"]
        ids = [_task_uuid(row[0]) for row in rows]
        made: list[Any] = []
        for n, row in enumerate(rows):
            spec = specs.get(row[4])
            if spec is None:
                raise ValueError(f"the circuit has no step '{row[4]}'")
            task = Task(workflow, spec, state=row[3], id=ids[n])
            made.append(task)
            parent = row[1]
            task._parent = ids[parent] if parent is not None else None
            task._children = [
                ids[child] if type(child) is int else _task_uuid(child) for child in row[2]
            ]
            task.last_state_change = row[5]
            task.triggered = row[6]
            size = len(row)
            internal = row[7] if size > 7 else {}
            updates = row[8] if size > 8 else {}
            if typed:
                internal, updates = restore(internal), restore(updates)
            task.internal_data = internal
            if isinstance(spec, CatchingEvent) and task._state & TaskState.WAITING:
                events.add_task(task)
            if parent is None:
                task.data = updates
                continue
            # The parent's values, each container copied one level deep, as SpiffWorkflow's
            # own loader (`DeepMerge.merge({}, parent.data)`) gives them.
            data = {
                k: (copy.copy(v) if type(v) in _CONTAINERS else v)
                for k, v in made[parent].data.items()
            }
            if updates:
                data.update(updates)
            if size > 9:
                for key in row[9]:
                    data.pop(key, None)
            task.data = data
        return self._finish_compact(dct, workflow, ids, typed)

    def _finish_compact(
        self, dct: dict[str, Any], workflow: Any, ids: list[UUID], typed: bool
    ) -> Any:
        tasks = workflow.tasks
        workflow.task_tree = tasks[ids[dct["root"]]]
        last = dct["last_task"]
        workflow.last_task = tasks[ids[last]] if last is not None else None
        workflow.success = dct["success"]
        workflow.completed = dct["completed"]
        workflow.correlations = dct["correlations"]
        data = dct["data"]
        workflow.data = self.registry.restore(data) if typed else data
        subprocesses = dict(dct.get("subprocesses", {}))
        if subprocesses:
            self._subprocesses_from_dict(subprocesses, workflow, workflow)
        workflow.bpmn_events = self.registry.restore(dct.get("bpmn_events", []))
        return workflow

    def _subprocesses_from_dict(
        self, dct: dict[str, Any], workflow: Any, top_workflow: Any
    ) -> None:
        """SpiffWorkflow's own, as `BpmnWorkflowConverter.subprocesses_from_dict` does it:
        parents before their children, which need the tasks they hang from."""
        for task in list(workflow.tasks.values()):
            if isinstance(task.task_spec, SubWorkflowTask) and str(task.id) in dct:
                subprocess = self.registry.restore(
                    dct.pop(str(task.id)), task=task, top_workflow=top_workflow
                )
                top_workflow.subprocesses[task.id] = subprocess
                subprocess.completed_event.connect(task.task_spec._on_subworkflow_completed, task)
                self._subprocesses_from_dict(dct, subprocess, top_workflow)


# -- The engine ---------------------------------------------------------------------------------


class CircuitEngine:
    """Start, complete and wake circuit instances; every call returns a `Snapshot`.

    Handed its parser (bytes → `ParsedCircuit`), serializer and script environment, so tests and
    the benchmark can swap them; the defaults are the hardened parser, the state-only serializer
    and the safe expression environment.
    """

    def __init__(
        self,
        *,
        parser: Callable[[bytes], ParsedCircuit] = parse_circuit,
        serializer: StateSerializer | None = None,
        environment: SafeEnvironment | None = None,
        evaluator: Evaluator | None = None,
        cache_size: int = 256,
    ) -> None:
        self._parse = parser
        self._serializer = serializer or StateSerializer()
        self._environment = environment or SafeEnvironment(evaluator)
        self._cache: OrderedDict[bytes, ParsedCircuit] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # Public API

    def load(self, definition: bytes) -> Circuit:
        """Parse and validate a definition (cached); raise `InvalidCircuit` saying what to fix."""
        return self._parsed(definition).circuit

    def start(self, definition: bytes, data: Mapping[str, Any], now: datetime) -> Snapshot:
        """Start an instance with `data` as its first process variables, run to the first wait."""
        parsed = self._parsed(definition)
        payload = _plain_data(data, "The start data")
        workflow = CircuitWorkflow(
            parsed.spec,
            dict(parsed.subprocess_specs),
            script_engine=self._script_engine(_utc(now)),
        )
        workflow.task_tree.data.update(payload)
        thrown = self._guard(lambda: self._advance(workflow))
        return self._snapshot(parsed, workflow, thrown)

    def complete(
        self,
        definition: bytes,
        state: str,
        task_id: str,
        data: Mapping[str, Any],
        now: datetime,
    ) -> Snapshot:
        """Complete the ready user task `task_id` with `data`, then run to the next wait.

        Refused with `TaskNotReady` (unknown, done, cancelled or not reached), `InvalidTaskData`
        (outcome missing or not offered, a required value missing, data not JSON) or
        `InvalidState`; the caller's state is then unchanged, as always: it is never mutated.
        """
        parsed = self._parsed(definition)
        payload = _plain_data(data, "The task data")
        workflow = self._restore(parsed, state, _utc(now))
        task = _ready_user_task(workflow, task_id)
        definition_of_task = parsed.user_tasks[str(task.task_spec.bpmn_id)]
        _check_outcome(definition_of_task, task.data, payload)
        task.data.update(payload)
        if definition_of_task.outcomes:
            # Later gateways can still tell what this step decided after others overwrote `outcome`.
            task.data[f"{definition_of_task.bpmn_id}_outcome"] = payload["outcome"]

        def run() -> list[Any]:
            task.run()
            return self._advance(workflow)

        thrown = self._guard(run)
        return self._snapshot(parsed, workflow, thrown)

    def wake(self, definition: bytes, state: str, now: datetime) -> Snapshot:
        """Let timers due at `now` fire and run what follows; a no-op before any deadline."""
        parsed = self._parsed(definition)
        workflow = self._restore(parsed, state, _utc(now))

        def run() -> list[Any]:
            workflow.refresh_timers()
            return self._advance(workflow)

        thrown = self._guard(run)
        return self._snapshot(parsed, workflow, thrown)

    # Internals

    def _parsed(self, definition: bytes) -> ParsedCircuit:
        if not isinstance(definition, bytes | bytearray):
            raise TypeError("a circuit definition is the bytes of its .bpmn file")
        # Keyed by the bytes themselves: a bytes object keeps its hash once computed, and a
        # deployed circuit hands the same object at every step, where a SHA-256 of the file
        # cost more than the rest of the lookup.
        key = definition if isinstance(definition, bytes) else bytes(definition)
        with self._lock:
            parsed = self._cache.get(key)
            if parsed is not None:
                self._cache.move_to_end(key)
                return parsed
        # Parse outside the lock: a slow upload must not stall steps of other circuits.
        parsed = self._parse(key)
        with self._lock:
            parsed = self._cache.setdefault(key, parsed)
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return parsed

    def _script_engine(self, now: datetime) -> CircuitScriptEngine:
        return CircuitScriptEngine(self._environment, now)

    def _restore(self, parsed: ParsedCircuit, state: str, now: datetime) -> Any:
        # The script engine is not part of the state: always set it again, with this step's clock.
        return self._serializer.loads(state, parsed, self._script_engine(now))

    def _advance(self, workflow: Any) -> list[Any]:
        """Run automatic steps until only people (or timers in the future) are awaited.

        SpiffWorkflow refreshes timers after its engine steps, so a deadline already past makes a
        boundary event ready without running it: loop until nothing automatic is ready.
        """
        thrown: list[Any] = []
        steps = 0

        def count(task: Any) -> None:
            nonlocal steps
            steps += 1
            if steps > MAX_AUTOMATIC_STEPS:
                raise CircuitError(
                    f"The circuit ran {MAX_AUTOMATIC_STEPS} automatic steps without reaching a "
                    "person: it loops without a user task."
                )

        def record(task: Any) -> None:
            if isinstance(task.task_spec, ThrowingEvent):
                thrown.append(task)

        while True:
            workflow.do_engine_steps(will_complete_task=count, did_complete_task=record)
            if not any(
                task.state == TaskState.READY and not task.task_spec.manual
                for task in _all_tasks(workflow)
            ):
                return thrown

    def _guard(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except CircuitError:
            raise
        except RecursionError:
            raise CircuitError(
                "The instance is too deep for the workflow engine to follow."
            ) from None
        except Exception as error:
            found = _circuit_error_in(error)
            if found is not None:
                raise found from None
            raise CircuitError(f"The circuit cannot continue: {_describe_error(error)}") from None

    def _snapshot(self, parsed: ParsedCircuit, workflow: Any, thrown: list[Any]) -> Snapshot:
        events = tuple(_thrown_events(workflow, thrown))
        ready: list[ReadyTask] = []
        end_events: list[str] = []
        for task in _all_tasks(workflow):
            if task.state == TaskState.READY and task.task_spec.manual:
                ready.append(_ready_task(parsed.user_tasks[str(task.task_spec.bpmn_id)], task))
            elif (
                task.state == TaskState.COMPLETED
                and isinstance(task.task_spec, EndEvent)
                and task.workflow is workflow
            ):
                end_events.append(str(task.task_spec.bpmn_id))
        last = workflow.last_task
        return Snapshot(
            process_id=parsed.circuit.process_id,
            sha256=parsed.circuit.sha256,
            state=self._serializer.dumps(workflow, parsed.circuit),
            ready_tasks=tuple(ready),
            next_wakeup=_next_wakeup(workflow),
            events=events,
            finished=bool(workflow.is_completed()),
            end_events=tuple(end_events),
            data=_copy_data(last.data) if last is not None else {},
        )


# -- Helpers ------------------------------------------------------------------------------------


def _utc(now: datetime) -> datetime:
    if not isinstance(now, datetime):
        raise TypeError("now must be a datetime")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (deadlines must not depend on the server)")
    return now.astimezone(UTC)


def _plain_data(data: Mapping[str, Any], what: str) -> dict[str, Any]:
    """A deep copy of `data` as JSON values, so nothing the caller holds is shared or mutated."""
    if not isinstance(data, Mapping):
        raise InvalidTaskData(f"{what} must be a mapping of names to values.")
    for key in data:
        if not isinstance(key, str) or not key:
            raise InvalidTaskData(f"{what} has the key {key!r}: names must be non-empty text.")
    try:
        text = json.dumps(dict(data), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise InvalidTaskData(
            f"{what} must hold JSON values only (text, numbers, true/false, null, lists, "
            f"objects; dates as ISO-8601 text): {error}."
        ) from None
    if len(text.encode()) > MAX_DATA_BYTES:
        raise InvalidTaskData(f"{what} is larger than {MAX_DATA_BYTES // 1024} KB.")
    result: dict[str, Any] = json.loads(text)
    return result


_SCALARS: Final = (str, int, float, bool, type(None))
_CONTAINERS: Final = frozenset((dict, list, set))


def _copy_data(value: Any) -> Any:
    """A deep copy of process data, several times faster than `copy.deepcopy` on JSON values
    (what the engine lets in); anything else is handed to `copy.deepcopy`."""
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is dict:
        return {key: _copy_data(item) for key, item in value.items()}
    if kind is list:
        return [_copy_data(item) for item in value]
    return copy.deepcopy(value)


def _all_tasks(workflow: Any) -> Iterator[Any]:
    """Every task of the instance and its subprocesses, in creation order.

    Walking the id maps is several times cheaper than SpiffWorkflow's tree iterator, and creation
    order is as deterministic as tree order.
    """
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


def _ready_user_task(workflow: Any, task_id: str) -> Any:
    try:
        uuid = UUID(str(task_id))
    except ValueError:
        raise TaskNotReady(f"There is no task {task_id!r} in this instance.") from None
    try:
        task = workflow.get_task_from_id(uuid)
    except TaskNotFoundException:
        task = None
    if task is None:
        raise TaskNotReady(
            f"There is no task {task_id} in this instance (it may belong to another instance, "
            "or to a path the instance did not take)."
        )
    name = task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name
    if not isinstance(task.task_spec, UserTask | ManualTask):
        raise TaskNotReady(f"'{name}' is not a task for a person.")
    if task.state == TaskState.READY:
        return task
    if task.state == TaskState.COMPLETED:
        raise TaskNotReady(
            f"The task '{name}' is already done (submitted twice, or by someone else)."
        )
    if task.state == TaskState.CANCELLED:
        raise TaskNotReady(f"The task '{name}' was cancelled.")
    raise TaskNotReady(
        f"The task '{name}' is not ready: the instance has not reached it "
        f"({TaskState.get_name(task.state).lower()})."
    )


def _check_outcome(
    definition: UserTaskDefinition, current: Mapping[str, Any], payload: Mapping[str, Any]
) -> None:
    if not definition.outcomes:
        return
    offered = [outcome.name for outcome in definition.outcomes]
    chosen = payload.get("outcome")
    if chosen is None:
        raise InvalidTaskData(
            f"Choose an outcome for '{definition.name}': {', '.join(offered)} "
            "(give it as 'outcome')."
        )
    outcome = next((o for o in definition.outcomes if o.name == chosen), None)
    if outcome is None:
        raise InvalidTaskData(
            f"'{chosen}' is not an outcome of '{definition.name}': choose {', '.join(offered)}."
        )
    merged = {**current, **payload}
    missing = [name for name in outcome.requires if merged.get(name) is None]
    if missing:
        raise InvalidTaskData(
            f"The outcome '{chosen}' of '{definition.name}' needs a value for "
            f"{', '.join(repr(name) for name in missing)}."
        )


def _ready_task(definition: UserTaskDefinition, task: Any) -> ReadyTask:
    return ReadyTask(
        id=str(task.id),
        bpmn_id=definition.bpmn_id,
        name=definition.name,
        lane=definition.lane,
        due_at=_task_due_at(task),
        outcomes=definition.outcomes,
        documentation=definition.documentation,
        instance_variable=definition.instance_variable,
        data=_copy_data(task.data),
    )


def _boundary_timers(task: Any) -> Iterator[Any]:
    """Timer tasks attached to `task` (or to the multi-instance activity it is an instance of)."""
    activity = task.parent if isinstance(task.parent.task_spec, LoopTask) else task
    split = activity.parent
    if split is None or not isinstance(split.task_spec, BoundaryEventSplit):
        return
    for sibling in split.children:
        spec = sibling.task_spec
        if isinstance(spec, BoundaryEvent) and isinstance(spec.event_definition, ClockedTimer):
            yield sibling


def _task_due_at(task: Any) -> datetime | None:
    deadlines = [d for t in _boundary_timers(task) if (d := due_at(t.internal_data)) is not None]
    return min(deadlines) if deadlines else None


def _next_wakeup(workflow: Any) -> datetime | None:
    deadlines = [
        deadline
        for task in workflow.event_manager.tasks.values()
        if isinstance(task.task_spec.event_definition, ClockedTimer)
        and not task.internal_data.get("event_fired")
        and (deadline := due_at(task.internal_data)) is not None
    ]
    return min(deadlines) if deadlines else None


_EVENT_KINDS: Final = (
    (EscalationEventDefinition, "escalation"),
    (ErrorEventDefinition, "error"),
    (MessageEventDefinition, "message"),
    (SignalEventDefinition, "signal"),
)


def _thrown_events(workflow: Any, thrown: list[Any]) -> Iterator[ThrownEvent]:
    """Events nothing in the circuit caught, with the step that threw them (drained)."""
    sources = list(thrown)
    for event in workflow.get_events():
        definition = event.event_definition
        kind = next((k for cls, k in _EVENT_KINDS if isinstance(definition, cls)), None)
        if kind is None:
            continue
        source = next((t for t in sources if t.task_spec.event_definition is definition), None)
        if source is not None:
            sources.remove(source)
        activity = _attached_activity(source) if source is not None else None
        single = activity is not None and isinstance(activity.task_spec, UserTask | ManualTask)
        yield ThrownEvent(
            kind=kind,
            name=str(definition.name),
            code=getattr(definition, "code", None),
            source_bpmn_id=str(source.task_spec.bpmn_id) if source is not None else "",
            task_bpmn_id=str(activity.task_spec.bpmn_id) if activity is not None else None,
            task_id=str(activity.id) if single and activity is not None else None,
        )


def _attached_activity(task: Any) -> Any:
    """The activity whose boundary event led to `task`, if it came from one."""
    current = task
    while current is not None:
        if isinstance(current.task_spec, BoundaryEvent):
            split = current.parent
            return next(
                (c for c in split.children if not isinstance(c.task_spec, BoundaryEvent)), None
            )
        current = current.parent
    return None


def _circuit_error_in(error: BaseException) -> CircuitError | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CircuitError):
            return current
        seen.add(id(current))
        wrapped = getattr(current, "exception", None)
        current = (
            wrapped
            if isinstance(wrapped, BaseException)
            else (current.__cause__ or current.__context__)
        )
    return None


def _describe_error(error: Exception) -> str:
    message = str(error.args[0]) if error.args else type(error).__name__
    task_spec = getattr(error, "task_spec", None)
    if task_spec is None:
        task = getattr(error, "task", None)
        task_spec = getattr(task, "task_spec", None)
    if task_spec is not None:
        where = getattr(task_spec, "bpmn_name", None) or getattr(task_spec, "bpmn_id", None)
        if where:
            return f"{message} (at '{where}')."
    if not isinstance(error, SpiffWorkflowException):
        message = f"{type(error).__name__}: {message}"
    return f"{message}."


# -- Module-level API over a default engine --------------------------------------------------------

_default: CircuitEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> CircuitEngine:
    """The process-wide engine (one spec cache per process)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = CircuitEngine()
        return _default


def load_circuit(definition: bytes) -> Circuit:
    """Parse and validate a definition; see `CircuitEngine.load`."""
    return default_engine().load(definition)


def start(definition: bytes, data: Mapping[str, Any], now: datetime) -> Snapshot:
    """Start an instance; see `CircuitEngine.start`."""
    return default_engine().start(definition, data, now)


def complete(
    definition: bytes, state: str, task_id: str, data: Mapping[str, Any], now: datetime
) -> Snapshot:
    """Complete a ready user task; see `CircuitEngine.complete`."""
    return default_engine().complete(definition, state, task_id, data, now)


def wake(definition: bytes, state: str, now: datetime) -> Snapshot:
    """Fire due timers; see `CircuitEngine.wake`."""
    return default_engine().wake(definition, state, now)


def bundled_definition(process_id: str) -> bytes:
    """The bytes of a circuit shipped in `workflows/circuits/` (file name == process id)."""
    if process_id not in BUNDLED_CIRCUITS:
        raise KeyError(
            f"no bundled circuit '{process_id}' (bundled: {', '.join(BUNDLED_CIRCUITS)})"
        )
    return (resources.files("workflows") / "circuits" / f"{process_id}.bpmn").read_bytes()
