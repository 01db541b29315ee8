"""Small BPMN documents for validation tests, and a driver that walks an instance step by step."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workflows.engine import CircuitEngine
from workflows.model import ReadyTask, Snapshot

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

# The bundled incoming_mail circuit walked through every kind of step: dispatch, two opinions,
# an answer returned once for correction, answered again, then the visa.
INCOMING_MAIL_PATH: list[tuple[str, dict[str, Any]]] = [
    (
        "dispatch",
        {"outcome": "dispatch", "addressed_unit": "finance", "processing_deadline": "P10D"},
    ),
    ("process", {"outcome": "consult", "consulted_units": ["legal", "audit"]}),
    ("give_opinion", {"outcome": "opinion", "comment": "No objection"}),
    ("give_opinion", {"outcome": "opinion", "comment": "Agreed"}),
    ("process", {"outcome": "answer"}),
    ("visa", {"outcome": "return", "comment": "Cite the decree"}),
    ("process", {"outcome": "answer"}),
    ("visa", {"outcome": "approve"}),
]

NAMESPACES = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:ged="urn:ged:bpmn:1"'
)

LANES = (
    '<bpmn:laneSet id="lanes"><bpmn:lane id="lane_clerk" name="clerk">'
    "<bpmn:flowNodeRef>work</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>"
)

SIMPLE = (
    '<bpmn:startEvent id="begin"/>'
    '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work"/>'
    '<bpmn:userTask id="work" name="Work"/>'
    '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>'
    '<bpmn:endEvent id="done"/>'
)


def circuit_xml(
    body: str = SIMPLE,
    *,
    lanes: str = LANES,
    process_id: str = "tiny",
    roots: str = "",
    doctype: str = "",
    process_attrs: str = 'isExecutable="true"',
) -> bytes:
    """A one-process BPMN document: `body` inside the process, `lanes` before it."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"{doctype}"
        f'<bpmn:definitions {NAMESPACES} id="definitions" targetNamespace="urn:test">'
        f"{roots}"
        f'<bpmn:process id="{process_id}" {process_attrs}>{lanes}{body}</bpmn:process>'
        "</bpmn:definitions>"
    ).encode()


def gateway_xml(condition: str, *, task_extension: str = "") -> bytes:
    """begin → work → gate: `condition` → yes, otherwise → no."""
    body = (
        '<bpmn:startEvent id="begin"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work"/>'
        f'<bpmn:userTask id="work" name="Work">{task_extension}</bpmn:userTask>'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="gate"/>'
        '<bpmn:exclusiveGateway id="gate" default="f4"/>'
        '<bpmn:sequenceFlow id="f3" sourceRef="gate" targetRef="yes">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="f4" sourceRef="gate" targetRef="no"/>'
        '<bpmn:endEvent id="yes"/>'
        '<bpmn:endEvent id="no"/>'
    )
    return circuit_xml(body)


def timer_xml(
    expression: str, *, element: str = "timeDuration", interrupting: bool = False
) -> bytes:
    """begin → work (with a boundary timer → late) → done."""
    body = (
        '<bpmn:startEvent id="begin"/>'
        '<bpmn:sequenceFlow id="f1" sourceRef="begin" targetRef="work"/>'
        '<bpmn:userTask id="work" name="Work"/>'
        '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="done"/>'
        '<bpmn:endEvent id="done"/>'
        '<bpmn:boundaryEvent id="deadline" attachedToRef="work" '
        f'cancelActivity="{str(interrupting).lower()}">'
        f'<bpmn:timerEventDefinition id="deadline_timer"><bpmn:{element} '
        f'xsi:type="bpmn:tFormalExpression">{expression}</bpmn:{element}>'
        "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:sequenceFlow id="f3" sourceRef="deadline" targetRef="late"/>'
        '<bpmn:endEvent id="late"/>'
    )
    return circuit_xml(body)


class Instance:
    """Drives one instance through an engine, keeping only what a caller would keep: the state."""

    def __init__(
        self,
        engine: CircuitEngine,
        definition: bytes,
        data: Mapping[str, Any] | None = None,
        now: datetime = NOW,
    ) -> None:
        self.engine = engine
        self.definition = definition
        self.snapshot = engine.start(definition, data or {}, now)

    @property
    def state(self) -> str:
        return self.snapshot.state

    def ready(self) -> list[str]:
        return [task.bpmn_id for task in self.snapshot.ready_tasks]

    def task(self, bpmn_id: str, item: Any = None) -> ReadyTask:
        matches = [
            task
            for task in self.snapshot.ready_tasks
            if task.bpmn_id == bpmn_id and (item is None or task.instance_item == item)
        ]
        assert len(matches) == 1, f"expected one ready '{bpmn_id}' ({item}), got {self.ready()}"
        return matches[0]

    def complete(
        self,
        bpmn_id: str,
        outcome: str | None = None,
        *,
        item: Any = None,
        now: datetime = NOW,
        **data: Any,
    ) -> Snapshot:
        if outcome is not None:
            data["outcome"] = outcome
        task = self.task(bpmn_id, item)
        self.snapshot = self.engine.complete(self.definition, self.state, task.id, data, now)
        return self.snapshot

    def wake(self, now: datetime) -> Snapshot:
        self.snapshot = self.engine.wake(self.definition, self.state, now)
        return self.snapshot
