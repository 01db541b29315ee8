"""Reading a circuit: hardened XML first, then the BPMN 2.0 schema, our rules, SpiffWorkflow's parser.

Order matters. The bytes come from an upload, so no XML feature that reaches outside the document
(DTDs, entities, network) is ever enabled; the schema check comes before SpiffWorkflow, whose
parser builds XPath queries from element ids; our rules (one executable process, lanes, no
scripts, safe expressions) come before SpiffWorkflow too, so their messages are the ones a person
reads.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Mapping, Sized
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ExternalReferenceForbidden as ExternalForbidden
from lxml import etree  # type: ignore[import-untyped]
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, BpmnValidator
from SpiffWorkflow.bpmn.parser.event_parsers import (
    BoundaryEventParser,
    EventBasedGatewayParser,
    IntermediateCatchEventParser,
    IntermediateThrowEventParser,
    StartEventParser,
)
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.defaults import (
    BoundaryEvent,
    IntermediateCatchEvent,
    IntermediateThrowEvent,
    ManualTask,
    NoneTask,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
    StartEvent,
    UserTask,
)
from SpiffWorkflow.bpmn.specs.defaults import EventBasedGateway as EventBasedGatewaySpec
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask, MultiInstanceTask

from workflows.errors import CircuitError, InvalidCircuit, InvalidTaskData
from workflows.expressions import check_expression
from workflows.model import Circuit, Outcome, UserTaskDefinition
from workflows.timers import ClockedDateTimer, ClockedDurationTimer, is_iso_literal, parse_deadline

BPMN_NS: Final = "http://www.omg.org/spec/BPMN/20100524/MODEL"
GED_NS: Final = "urn:ged:bpmn:1"
MAX_BYTES: Final = 2_000_000
MAX_INSTANCES: Final = 200
_SNAKE = re.compile(r"[a-z][a-z0-9_]{0,62}")
_VARIABLE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")
_LOOKS_LIKE_DURATION = re.compile(r"PT?\d")

# Every BPMN element a circuit may contain; anything else is refused by name.
_ALLOWED: Final = frozenset(
    {
        "definitions",
        "collaboration",
        "participant",
        "process",
        "laneSet",
        "lane",
        "childLaneSet",
        "flowNodeRef",
        "documentation",
        "extensionElements",
        "incoming",
        "outgoing",
        "sequenceFlow",
        "conditionExpression",
        "startEvent",
        "endEvent",
        "intermediateCatchEvent",
        "intermediateThrowEvent",
        "boundaryEvent",
        "userTask",
        "manualTask",
        "task",
        "subProcess",
        "exclusiveGateway",
        "parallelGateway",
        "inclusiveGateway",
        "eventBasedGateway",
        "timerEventDefinition",
        "timeDate",
        "timeDuration",
        "escalationEventDefinition",
        "escalation",
        "messageEventDefinition",
        "message",
        "signalEventDefinition",
        "signal",
        "errorEventDefinition",
        "error",
        "terminateEventDefinition",
        "multiInstanceLoopCharacteristics",
        "loopDataInputRef",
        "loopDataOutputRef",
        "inputDataItem",
        "outputDataItem",
        "completionCondition",
        "standardLoopCharacteristics",
        "loopCondition",
        "textAnnotation",
        "text",
        "association",
        "group",
        "category",
        "categoryValue",
        "dataObject",
        "dataObjectReference",
        "dataInputAssociation",
        "dataOutputAssociation",
        "sourceRef",
        "targetRef",
    }
)
_PEOPLE_ONLY = "circuits route work between people; automated steps belong in the application"
_REFUSED: Final[Mapping[str, str]] = {
    "scriptTask": (
        "Script tasks are not allowed in circuits: a circuit only routes work between people, "
        "so computations belong in the application"
    ),
    "serviceTask": f"Service tasks are not supported: {_PEOPLE_ONLY}",
    "businessRuleTask": f"Business rule tasks are not supported: {_PEOPLE_ONLY}",
    "sendTask": f"Send tasks are not supported: {_PEOPLE_ONLY}",
    "receiveTask": f"Receive tasks are not supported: {_PEOPLE_ONLY}",
    "callActivity": "Call activities are not supported: a circuit is one process in one file",
    "timeCycle": "Repeating timers (timeCycle) are not supported: use a duration or a date",
    "import": "Imports are not supported: a circuit is one self-contained file",
    "script": "Scripts are not allowed in circuits",
    "loopCardinality": (
        "Multi-instance tasks over a count (loopCardinality) are not supported: loop over a list "
        "in the data with loopDataInputRef"
    ),
}
# SpiffWorkflow names some of its own task specs; an element with the same id replaces them.
_RESERVED_IDS: Final = frozenset({"Start", "End", "Root", "StartEventSplit", "StartEventJoin"})


@dataclass(frozen=True)
class ParsedCircuit:
    """A circuit with the SpiffWorkflow specs it runs on; shared read-only between instances."""

    circuit: Circuit
    spec: Any
    subprocess_specs: Mapping[str, Any]
    user_tasks: Mapping[str, UserTaskDefinition]


def sha256(bpmn: bytes) -> str:
    return hashlib.sha256(bpmn).hexdigest()


def parse_circuit(bpmn: bytes) -> ParsedCircuit:
    """Read, check and parse one circuit; raise `InvalidCircuit` with a message to act on."""
    root = read_xml(bpmn)
    _validate_schema(root)
    facts = _check_document(root)
    spec, subprocess_specs = _parse_specs(root, facts.process_id)
    user_tasks = _user_tasks(root, spec, subprocess_specs, facts)
    _wire_loops(spec, subprocess_specs)
    circuit = Circuit(
        process_id=facts.process_id,
        name=facts.name,
        sha256=sha256(bpmn),
        lanes=facts.lanes,
        user_tasks=tuple(user_tasks.values()),
        end_events=facts.end_events,
        thrown_events=facts.thrown_events,
        documentation=facts.documentation,
    )
    return ParsedCircuit(circuit, spec, subprocess_specs, user_tasks)


# -- XML ---------------------------------------------------------------------------------------


def read_xml(data: bytes) -> etree._Element:
    """Parse untrusted XML: no DTD, no entities, no network, no huge trees."""
    if not isinstance(data, bytes | bytearray):
        raise InvalidCircuit("A circuit is read from the bytes of a .bpmn file.")
    if len(data) > MAX_BYTES:
        raise InvalidCircuit(
            f"The file is {len(data):,} bytes; circuits are limited to {MAX_BYTES:,} bytes."
        )
    if not data.strip():
        raise InvalidCircuit("The file is empty: upload a BPMN 2.0 (.bpmn) file.")
    # defusedxml names the attack; lxml (hardened as well) then builds the tree we work on.
    try:
        DefusedET.fromstring(
            bytes(data), forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DTDForbidden:
        raise InvalidCircuit(
            "The file declares a DOCTYPE, which circuits may not contain: DTDs allow entity "
            "expansion ('billion laughs') and external entities. Export the diagram again "
            "without a DOCTYPE."
        ) from None
    except EntitiesForbidden:
        raise InvalidCircuit(
            "The file declares XML entities, which circuits may not contain (they allow "
            "'billion laughs' expansion and reading local files)."
        ) from None
    except ExternalForbidden:
        raise InvalidCircuit(
            "The file refers to an external resource, which circuits may not do."
        ) from None
    except DefusedXmlException as error:
        raise InvalidCircuit(f"The file uses a forbidden XML feature: {error}.") from None
    except DefusedET.ParseError as error:
        raise InvalidCircuit(f"The file is not well-formed XML: {error}.") from None
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(bytes(data), parser)
    except etree.XMLSyntaxError as error:
        raise InvalidCircuit(f"The file is not well-formed XML: {error}.") from None
    if root.getroottree().docinfo.doctype:
        raise InvalidCircuit("The file declares a DOCTYPE, which circuits may not contain.")
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise InvalidCircuit(
            f"This is not a BPMN 2.0 file: its root element is <{etree.QName(root).localname}>, "
            "not <bpmn:definitions>."
        )
    return root


_validator: BpmnValidator | None = None
_validator_lock = threading.Lock()


def _validate_schema(root: etree._Element) -> None:
    global _validator
    with _validator_lock:
        # Loading the BPMN schemas costs tens of milliseconds: once per process.
        if _validator is None:
            _validator = BpmnValidator()
        validator = _validator
    try:
        validator.validate(root)
    except ValidationException as error:
        line = f" (line {error.line_number})" if error.line_number else ""
        raise InvalidCircuit(
            f"The file is not valid BPMN 2.0{line}: {_spiff_message(error)}"
        ) from None


# -- Our rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    process_id: str
    name: str
    documentation: str | None
    lanes: tuple[str, ...]
    end_events: tuple[str, ...]
    thrown_events: tuple[str, ...]
    outcomes: Mapping[str, tuple[Outcome, ...]]
    deadlines: frozenset[str]


def _bpmn(element: etree._Element, name: str) -> Iterator[etree._Element]:
    yield from element.iter(f"{{{BPMN_NS}}}{name}")


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _describe(element: etree._Element) -> str:
    ident = element.get("id")
    label = element.get("name")
    what = f"<bpmn:{_local(element)}"
    what += f" id='{ident}'" if ident else ""
    what += f" name='{label}'" if label else ""
    return what + f"> (line {element.sourceline})"


def _check_document(root: etree._Element) -> _Facts:
    for element in root.iter(etree.Element):
        if etree.QName(element).namespace != BPMN_NS:
            continue
        local = _local(element)
        if local in _REFUSED:
            raise InvalidCircuit(f"{_REFUSED[local]}: {_describe(element)}.")
        if local not in _ALLOWED:
            raise InvalidCircuit(f"The element {_describe(element)} is not supported in circuits.")
        _check_id(element)

    process = _single_process(root)
    process_id = str(process.get("id"))
    lanes: list[str] = []
    for lane in _bpmn(process, "lane"):
        name = (lane.get("name") or "").strip()
        if not name:
            raise InvalidCircuit(
                f"The lane {_describe(lane)} has no name: lanes are bound to units and roles "
                "by their name, so give every lane one (e.g. 'addressed_unit')."
            )
        if name not in lanes:
            lanes.append(name)

    _check_expressions(process)
    _check_loops(process)
    deadlines = frozenset(
        str(event.get("attachedToRef"))
        for event in _bpmn(process, "boundaryEvent")
        if next(_bpmn(event, "timerEventDefinition"), None) is not None
    )
    documentation = next(
        (doc.text for doc in process.findall(f"{{{BPMN_NS}}}documentation") if doc.text), None
    )
    return _Facts(
        process_id=process_id,
        name=(process.get("name") or process_id).strip(),
        documentation=documentation,
        lanes=tuple(lanes),
        end_events=tuple(str(end.get("id")) for end in _bpmn(process, "endEvent")),
        thrown_events=_thrown_event_names(root, process),
        outcomes=_outcomes(process),
        deadlines=deadlines,
    )


def _thrown_event_names(root: etree._Element, process: etree._Element) -> tuple[str, ...]:
    """Names of the escalations, messages and signals thrown by throw and end events."""
    declared = {
        str(element.get("id")): str(element.get("name") or element.get("id"))
        for kind in ("escalation", "message", "signal")
        for element in _bpmn(root, kind)
    }
    names: list[str] = []
    for tag in ("intermediateThrowEvent", "endEvent"):
        for event in _bpmn(process, tag):
            for definition in event:
                for kind in ("escalation", "message", "signal"):
                    name = declared.get(str(definition.get(f"{kind}Ref")))
                    if name is not None and name not in names:
                        names.append(name)
    return tuple(names)


def _check_id(element: etree._Element) -> None:
    ident = element.get("id")
    if ident is None:
        return
    if ident == "Start" and _local(element) == "startEvent":
        raise InvalidCircuit(
            "The start event's id is 'Start', which the workflow engine reserves for its own "
            "first step (the instance would fail with 'No output task connected'): rename it, "
            f"e.g. to 'registered'. {_describe(element)}"
        )
    if ident in _RESERVED_IDS:
        raise InvalidCircuit(
            f"The id '{ident}' is reserved by the workflow engine: rename {_describe(element)}."
        )
    if "." in ident:
        raise InvalidCircuit(
            f"The id '{ident}' contains a '.', which the workflow engine uses in names of its "
            f"own: use snake_case ids. {_describe(element)}"
        )


def _single_process(root: etree._Element) -> etree._Element:
    processes = list(_bpmn(root, "process"))
    if not processes:
        raise InvalidCircuit("The file contains no process: draw the circuit inside a process.")
    if len(processes) > 1:
        ids = ", ".join(f"'{p.get('id')}'" for p in processes)
        raise InvalidCircuit(
            f"The file contains {len(processes)} processes ({ids}); a circuit is exactly one "
            "executable process per file."
        )
    process = processes[0]
    process_id = process.get("id") or ""
    if process.get("isExecutable", "true") != "true":
        raise InvalidCircuit(
            f"The process '{process_id}' is not marked executable: set isExecutable=\"true\" "
            "(the 'Executable' box in the modeler)."
        )
    if not _SNAKE.fullmatch(process_id):
        raise InvalidCircuit(
            f"The process id '{process_id}' must be snake_case (lowercase letters, digits and "
            "'_', starting with a letter, at most 63 characters), e.g. 'incoming_mail'."
        )
    return process


def _check_expressions(process: etree._Element) -> None:
    for name in ("conditionExpression", "completionCondition", "loopCondition"):
        for element in _bpmn(process, name):
            text = (element.text or "").strip()
            owner = element.getparent()
            if not text:
                raise InvalidCircuit(f"The {name} of {_describe(owner)} is empty.")
            try:
                check_expression(text)
            except CircuitError as error:
                raise InvalidCircuit(f"{error} In {_describe(owner)}.") from None
    for name in ("timeDuration", "timeDate"):
        for element in _bpmn(process, name):
            owner = element.getparent().getparent()
            text = (element.text or "").strip()
            if not text:
                raise InvalidCircuit(f"The timer of {_describe(owner)} has no {name}.")
            try:
                check_timer_expression(text)
            except CircuitError as error:
                raise InvalidCircuit(f"{error} In the timer of {_describe(owner)}.") from None


# Elements where an instance stops until a person or a timer moves it on.
_WAITING: Final = frozenset(
    {"userTask", "manualTask", "intermediateCatchEvent", "eventBasedGateway", "boundaryEvent"}
)


def _check_loops(process: etree._Element) -> None:
    """Refuse a cycle of sequence flows with nothing to wait for: an instance would spin forever."""
    elements = {str(e.get("id")): e for e in process.iter(etree.Element) if e.get("id")}

    def waits(ident: str) -> bool:
        element = elements.get(ident)
        if element is None:
            return True
        local = _local(element)
        if local == "subProcess":
            return any(_local(inner) in _WAITING for inner in element.iter(etree.Element))
        return local in _WAITING

    successors: dict[str, list[str]] = {}
    for flow in _bpmn(process, "sequenceFlow"):
        source, target = str(flow.get("sourceRef")), str(flow.get("targetRef"))
        if not waits(source) and not waits(target):
            successors.setdefault(source, []).append(target)

    done: set[str] = set()
    for root in successors:
        if root in done:
            continue
        path = [root]
        stack = [iter(successors.get(root, ()))]
        while stack:
            following = next(stack[-1], None)
            if following is None:
                stack.pop()
                done.add(path.pop())
            elif following in path:
                cycle = [*path[path.index(following) :], following]
                raise InvalidCircuit(
                    "The flow " + " → ".join(cycle) + " loops without any user task or timer: "
                    "an instance would go round it forever. Put a user task on the loop."
                )
            elif following not in done:
                path.append(following)
                stack.append(iter(successors.get(following, ())))


def check_timer_expression(text: str) -> None:
    """Refuse a timer that can never give a deadline: unsafe, or a literal that is not ISO-8601."""
    start = datetime(2000, 1, 1, tzinfo=UTC)
    # 'P3X' is a valid name, but its author meant a duration: say it is not one.
    if is_iso_literal(text) or _LOOKS_LIKE_DURATION.match(text):
        parse_deadline(text, start)
        return
    check_expression(text)


def _outcomes(process: etree._Element) -> Mapping[str, tuple[Outcome, ...]]:
    found: dict[str, tuple[Outcome, ...]] = {}
    for block in process.iter(f"{{{GED_NS}}}outcomes"):
        task = block.getparent().getparent() if block.getparent() is not None else None
        if task is None or _local(task) not in ("userTask", "manualTask"):
            raise InvalidCircuit(
                f"<ged:outcomes> (line {block.sourceline}) belongs in the extensionElements of a "
                "user task."
            )
        outcomes: list[Outcome] = []
        for element in block.iter(f"{{{GED_NS}}}outcome"):
            name = (element.get("name") or "").strip()
            if not _SNAKE.fullmatch(name):
                raise InvalidCircuit(
                    f"The outcome '{name}' of {_describe(task)} must be a snake_case word "
                    "such as 'approve'."
                )
            if any(o.name == name for o in outcomes):
                raise InvalidCircuit(f"The outcome '{name}' appears twice in {_describe(task)}.")
            requires = tuple((element.get("requires") or "").split())
            for variable in requires:
                if not _VARIABLE.fullmatch(variable):
                    raise InvalidCircuit(
                        f"The outcome '{name}' of {_describe(task)} requires '{variable}', "
                        "which is not a variable name."
                    )
            outcomes.append(Outcome(name, requires))
        if not outcomes:
            raise InvalidCircuit(f"<ged:outcomes> of {_describe(task)} lists no <ged:outcome>.")
        found[str(task.get("id"))] = tuple(outcomes)
    return found


# -- SpiffWorkflow ------------------------------------------------------------------------------


class _ItemScopedMerge(MultiInstanceTask):  # type: ignore[misc]
    """Keep a multi-instance item (e.g. `consulted_unit`) inside its instance.

    Without an output collection SpiffWorkflow merges each finished instance's data into the
    process data, item included; the next pass through the same task then stops with "input item
    already exists" (a visa chain after a return for correction, say). The item stays in the
    instance's own data, which is where the task list reads it.
    """

    def _update_hook(self, my_task: Any) -> Any:
        ready = super()._update_hook(my_task)
        if self.data_input is not None and self.data_input.exists(my_task):
            items = self.data_input.get(my_task)
            if isinstance(items, Sized) and len(items) > MAX_INSTANCES:
                raise InvalidTaskData(
                    f"'{self.bpmn_name or self.bpmn_id}' runs once per item of "
                    f"'{self.data_input.bpmn_id}', at most {MAX_INSTANCES} times; it has "
                    f"{len(items)} items."
                )
        return ready

    def merge_child(self, workflow: Any, child: Any) -> None:
        name = self.input_item.bpmn_id if self.input_item is not None else None
        if name is None or name not in child.data:
            super().merge_child(workflow, child)
            return
        item = child.data.pop(name)
        try:
            super().merge_child(workflow, child)
        finally:
            child.data[name] = item


class ScopedParallelMultiInstance(ParallelMultiInstanceTask, _ItemScopedMerge):  # type: ignore[misc]
    pass


class ScopedSequentialMultiInstance(SequentialMultiInstanceTask, _ItemScopedMerge):  # type: ignore[misc]
    pass


class _CircuitTaskParser(TaskParser):  # type: ignore[misc]
    PARALLEL_MI_CLASS = ScopedParallelMultiInstance
    SEQUENTIAL_MI_CLASS = ScopedSequentialMultiInstance


def _clocked(parser_class: type[Any]) -> type[Any]:
    """The same event parser, producing timers on the caller's clock (`workflows.timers`)."""

    def parse_timer_event(self: Any, event: Any) -> Any:
        definition = parser_class.parse_timer_event(self, event)
        if isinstance(definition, TimeDateEventDefinition):
            clocked: type[Any] = ClockedDateTimer
        elif isinstance(definition, DurationTimerEventDefinition):
            clocked = ClockedDurationTimer
        else:
            return definition
        return clocked(definition.name, definition.expression, description=definition.description)

    return type(
        f"Clocked{parser_class.__name__}", (parser_class,), {"parse_timer_event": parse_timer_event}
    )


class CircuitParser(BpmnParser):  # type: ignore[misc]
    """SpiffWorkflow's BPMN parser with clocked timers and item-scoped multi-instance tasks."""

    OVERRIDE_PARSER_CLASSES = {
        full_tag("userTask"): (_CircuitTaskParser, UserTask),
        full_tag("manualTask"): (_CircuitTaskParser, ManualTask),
        full_tag("task"): (_CircuitTaskParser, NoneTask),
        full_tag("startEvent"): (_clocked(StartEventParser), StartEvent),
        full_tag("intermediateCatchEvent"): (
            _clocked(IntermediateCatchEventParser),
            IntermediateCatchEvent,
        ),
        full_tag("intermediateThrowEvent"): (
            _clocked(IntermediateThrowEventParser),
            IntermediateThrowEvent,
        ),
        full_tag("boundaryEvent"): (_clocked(BoundaryEventParser), BoundaryEvent),
        full_tag("eventBasedGateway"): (_clocked(EventBasedGatewayParser), EventBasedGatewaySpec),
    }


def _parse_specs(root: etree._Element, process_id: str) -> tuple[Any, dict[str, Any]]:
    parser = CircuitParser()
    try:
        parser.add_bpmn_xml(root)
        spec = parser.get_spec(process_id)
        subprocess_specs = parser.get_subprocess_specs(process_id)
    except ValidationException as error:
        element = _find_by_id(root, error.id) if error.id else None
        where = f" In {_describe(element)}." if element is not None else ""
        raise InvalidCircuit(f"The circuit cannot run: {_spiff_message(error)}.{where}") from None
    except CircuitError:
        raise
    except Exception as error:  # The parser reports some mistakes as plain Python errors.
        raise InvalidCircuit(f"The circuit cannot run: {type(error).__name__}: {error}.") from None
    return spec, dict(subprocess_specs)


def _spiff_message(error: ValidationException) -> str:
    return str(error.args[0]) if error.args else str(error)


def _find_by_id(root: etree._Element, ident: str) -> etree._Element | None:
    for element in root.iter(etree.Element):
        if element.get("id") == ident:
            return element
    return None


def _all_specs(spec: Any, subprocess_specs: Mapping[str, Any]) -> Iterator[Any]:
    yield spec
    yield from subprocess_specs.values()


def _user_tasks(
    root: etree._Element, spec: Any, subprocess_specs: Mapping[str, Any], facts: _Facts
) -> dict[str, UserTaskDefinition]:
    tasks: dict[str, UserTaskDefinition] = {}
    for process_spec in _all_specs(spec, subprocess_specs):
        for task_spec in process_spec.task_specs.values():
            if not isinstance(task_spec, UserTask | ManualTask):
                continue
            bpmn_id = str(task_spec.bpmn_id)
            if not task_spec.lane:
                element = _find_by_id(root, bpmn_id)
                where = _describe(element) if element is not None else f"'{bpmn_id}'"
                raise InvalidCircuit(
                    f"The user task {where} is not in any lane: put it in a lane so the circuit "
                    "says who must do it."
                )
            wrapper = process_spec.task_specs.get(bpmn_id)
            item = None
            if isinstance(wrapper, MultiInstanceTask) and wrapper.input_item is not None:
                item = str(wrapper.input_item.bpmn_id)
            tasks[bpmn_id] = UserTaskDefinition(
                bpmn_id=bpmn_id,
                name=str(task_spec.bpmn_name or bpmn_id),
                lane=str(task_spec.lane),
                documentation=task_spec.documentation,
                outcomes=facts.outcomes.get(bpmn_id, ()),
                instance_variable=item,
                has_deadline=bpmn_id in facts.deadlines,
            )
    unused = set(facts.outcomes) - set(tasks)
    if unused:
        raise InvalidCircuit(
            f"Outcomes are declared on {', '.join(sorted(unused))}, which the circuit never reaches."
        )
    return tasks


def _wire_loops(spec: Any, subprocess_specs: Mapping[str, Any]) -> None:
    """Connect loop bookkeeping now, while the spec is private to this thread.

    SpiffWorkflow connects it lazily on the first pass, which mutates the shared spec: two threads
    racing there would connect it twice, and every instance completion would then count double.
    """
    for process_spec in _all_specs(spec, subprocess_specs):
        for task_spec in list(process_spec.task_specs.values()):
            if isinstance(task_spec, LoopTask):
                child = process_spec.task_specs[task_spec.task_spec]
                if not child.completed_event.is_connected(task_spec.merge_child):
                    child.completed_event.connect(task_spec.merge_child)
