"""`workflows.tree` finds the same tasks, in the same order, as SpiffWorkflow's own iterators."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.util.task import TaskIterator, TaskState

from tests.unit.workflows.builders import INCOMING_MAIL_PATH, NOW
from workflows.engine import CircuitEngine
from workflows.tree import MAX_DEPTH, CircuitWorkflow, _walk

STATES = [
    TaskState.MAYBE,
    TaskState.LIKELY,
    TaskState.FUTURE,
    TaskState.WAITING,
    TaskState.READY,
    TaskState.STARTED,
    TaskState.COMPLETED,
    TaskState.ERROR,
    TaskState.CANCELLED,
    TaskState.FINISHED_MASK,
    TaskState.DEFINITE_MASK,
    TaskState.PREDICTED_MASK,
    TaskState.NOT_FINISHED_MASK,
    TaskState.ANY_MASK,
]


def _workflows_along_the_path(definition: bytes) -> list[Any]:
    """The restored instance before each step of the incoming-mail path, and at its end."""
    engine = CircuitEngine()
    parsed = engine._parsed(definition)
    snapshot = engine.start(definition, {}, NOW)
    states = [snapshot.state]
    for bpmn_id, data in INCOMING_MAIL_PATH:
        task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
        snapshot = engine.complete(definition, snapshot.state, task.id, data, NOW)
        states.append(snapshot.state)
    return [engine._restore(parsed, state, NOW) for state in states]


def test_restored_instances_use_the_fast_queries(incoming_mail: bytes) -> None:
    assert all(isinstance(w, CircuitWorkflow) for w in _workflows_along_the_path(incoming_mail))


def test_the_same_tasks_as_spiffworkflow_at_every_step(incoming_mail: bytes) -> None:
    checked = 0
    for workflow in _workflows_along_the_path(incoming_mail):
        root = workflow.task_tree
        for state, manual in itertools.product(STATES, (None, True, False)):
            ours = list(_walk(root, state, manual))
            assert ours == list(TaskIterator(root, state=state, manual=manual))
            assert ours == list(BpmnTaskIterator(root, state=state, manual=manual))
            assert ours == workflow.get_tasks(state=state, manual=manual)
            checked += len(ours)
    assert checked > 1000


def test_other_filters_go_to_spiffworkflow(incoming_mail: bytes) -> None:
    workflow = _workflows_along_the_path(incoming_mail)[3]
    by_spec = workflow.get_tasks(spec_name="give_opinion")
    assert by_spec
    assert by_spec == list(BpmnTaskIterator(workflow.task_tree, spec_name="give_opinion"))


# A tree made of stand-ins, to reach shapes and depths the bundled circuits do not.


@dataclass
class _Spec:
    name: str
    manual: bool


@dataclass(eq=False)
class _Task:
    workflow: _Tree
    _state: int
    task_spec: _Spec
    _parent: UUID | None = None
    _children: list[UUID] = field(default_factory=list)
    id: UUID = field(default_factory=uuid4)
    last_state_change: float = 1.0

    @property
    def state(self) -> int:
        return self._state

    @property
    def parent(self) -> _Task | None:
        return self.workflow.tasks.get(self._parent) if self._parent else None

    @property
    def children(self) -> list[_Task]:
        return [self.workflow.tasks[child] for child in self._children]

    def has_state(self, state: int) -> bool:
        return (self._state & state) != 0


@dataclass
class _Tree:
    tasks: dict[UUID, _Task] = field(default_factory=dict)

    def add(self, parent: _Task | None, state: int, manual: bool) -> _Task:
        task = _Task(self, state, _Spec(f"spec{len(self.tasks)}", manual))
        self.tasks[task.id] = task
        if parent is not None:
            task._parent = parent.id
            parent._children.append(task.id)
        return task


@pytest.mark.parametrize("seed", range(20))
def test_random_trees(seed: int) -> None:
    rng = random.Random(seed)
    tree = _Tree()
    root = tree.add(None, TaskState.COMPLETED, False)
    nodes = [root]
    for _ in range(300):
        parent = rng.choice(nodes)
        nodes.append(tree.add(parent, rng.choice(STATES[:9]), rng.random() < 0.3))
    for state, manual in itertools.product(STATES, (None, True, False)):
        assert list(_walk(root, state, manual)) == list(
            TaskIterator(root, state=state, manual=manual)
        )


def test_the_depth_limit_is_spiffworkflows() -> None:
    tree = _Tree()
    task = root = tree.add(None, TaskState.COMPLETED, False)
    for _ in range(MAX_DEPTH + 5):
        tree.add(task, TaskState.READY, False)  # a leaf beside the chain
        task = tree.add(task, TaskState.COMPLETED, False)
    ours = list(_walk(root, TaskState.ANY_MASK))
    assert ours == list(TaskIterator(root, state=TaskState.ANY_MASK))
    assert len(ours) < len(tree.tasks)  # the walk stopped at the same depth as SpiffWorkflow's
