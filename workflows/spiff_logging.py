"""SpiffWorkflow's task state changes, without building their log records when nobody logs them.

`SpiffWorkflow.task.Task._set_state` (3.2) formats a message and collects a dictionary of
"extras" (names, ids, state names, the parent's id) at every state change, then hands them to
`logger.info`/`logger.debug`, which drops them unless `spiff.task` is enabled for that level.
A step changes states a few dozen times: that was about a tenth of a step's time in the engine
(docs/circuits-performance.md). This replacement does the same state change and, when the
logger is enabled, logs exactly the same record; otherwise it builds nothing.

Installed once by `workflows.engine`, and only over the version it was written against: another
SpiffWorkflow release keeps its own method.
"""

from __future__ import annotations

import logging
import time
from importlib.metadata import version
from typing import Any, Final

from SpiffWorkflow import task as spiff_task
from SpiffWorkflow.util.task import TaskState

WRITTEN_FOR: Final = "3.2.0"
_logger: Final = spiff_task.logger


def _set_state(self: Any, value: int) -> None:
    """Force set the state on a task"""
    if value != self.state:
        elapsed = time.time() - self.last_state_change
        self.last_state_change = time.time()
        self._state = value
        if _logger.isEnabledFor(logging.INFO):
            _logger.info(
                f"State changed to {TaskState.get_name(value)}",
                extra=self.collect_log_extras({"elapsed": elapsed}),
            )
    elif _logger.isEnabledFor(logging.DEBUG):
        _logger.debug(f"State set to {TaskState.get_name(value)}", extra=self.collect_log_extras())


_original: Final = spiff_task.Task._set_state


def install() -> bool:
    """Replace `Task._set_state` if SpiffWorkflow is the release this was checked against."""
    if version("SpiffWorkflow") != WRITTEN_FOR:
        return False
    spiff_task.Task._set_state = _set_state
    return True


def uninstall() -> None:
    spiff_task.Task._set_state = _original
