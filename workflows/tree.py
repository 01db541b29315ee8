"""SpiffWorkflow's task-tree queries by state, walked without its generic iterator.

A step asks the tree for its ready tasks (`get_tasks(state=READY)`) after each automatic task,
for its waiting tasks after each completion (`update_waiting_tasks`), and whether anything is
left (`is_completed`). SpiffWorkflow 3.2 answers each with `TaskIterator`, which supports
filters we never use, pops the head of a Python list (quadratic in the tree's size) and follows
parent links to track depth: about a sixth of a step's engine time
(docs/circuits-performance.md).

`_walk` gives the same tasks in the same order for a filter on state (and `manual`) alone: a
depth-first walk from the root that descends into a task's children when its state is at least
the lowest state the filter can match (so finished branches are not searched for open work),
no deeper than `MAX_DEPTH`, reading each task's children as the walk reaches it (callers change
the tree while they iterate). Anything else (other filters, subprocesses, whose tasks the BPMN
iterator interleaves) goes to SpiffWorkflow's own iterator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

# TaskIterator's default `max_depth`.
MAX_DEPTH: Final = 1000
_PLAIN_FILTERS: Final = frozenset({"state", "manual"})


def _lowest_state(state: int) -> int:
    """The lowest task state worth descending from, as TaskIterator decides it."""
    if state & TaskState.PREDICTED_MASK:
        return int(TaskState.MAYBE)
    if state & TaskState.DEFINITE_MASK:
        return int(TaskState.FUTURE)
    return int(TaskState.COMPLETED)


def _walk(root: Any, state: int, manual: bool | None = None) -> Iterator[Any]:
    lowest = _lowest_state(state)
    tasks = root.workflow.tasks
    stack: list[tuple[Any, int]] = [(root, 0)]
    pop, push = stack.pop, stack.append
    while stack:
        task, depth = pop()
        if task._children and task._state >= lowest and depth < MAX_DEPTH:
            below = depth + 1
            for child_id in reversed(task._children):
                push((tasks.get(child_id), below))
        if (
            task._state & state
            and task.last_state_change >= 0
            and (manual is None or task.task_spec.manual == manual)
        ):
            yield task


class CircuitWorkflow(BpmnWorkflow):  # type: ignore[misc]
    """A BpmnWorkflow whose queries by state take `_walk` while it has no subprocess."""

    def get_tasks_iterator(self, first_task: Any = None, **kwargs: Any) -> Iterator[Any]:
        if self.subprocesses or not kwargs.keys() <= _PLAIN_FILTERS:
            return super().get_tasks_iterator(first_task, **kwargs)  # type: ignore[no-any-return]
        return _walk(
            first_task or self.task_tree,
            kwargs.get("state", TaskState.ANY_MASK),
            kwargs.get("manual"),
        )

    def update_waiting_tasks(self) -> None:
        # Workflow.update_waiting_tasks walks with the plain TaskIterator, which never enters a
        # subprocess: `_walk` is the same walk whether or not there are any.
        for task in _walk(self.task_tree, TaskState.WAITING):
            task.task_spec._update(task)

    def is_completed(self) -> bool:
        if not self.completed:
            for _task in _walk(self.task_tree, TaskState.NOT_FINISHED_MASK):
                return False
            self.completed: bool = True
        return bool(self.completed)
