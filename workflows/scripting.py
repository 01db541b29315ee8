"""The script engine SpiffWorkflow is handed: safe expressions, no scripts, the caller's clock.

SpiffWorkflow's default `TaskDataEnvironment` passes expressions to Python's `eval` and scripts to
`exec`. Here the environment is replaced: expressions go to `workflows.expressions`, scripts and
service calls are refused. The engine also carries the `now` of the current step for the timers in
`workflows.timers`. It is not serialized with an instance, so it is set again after every load.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn.script_engine import BasePythonScriptEngineEnvironment, PythonScriptEngine

from workflows.errors import ExpressionError
from workflows.expressions import Evaluator, compile_expression

_NO_SCRIPTS = (
    "Scripts are not allowed in circuits: a circuit only routes work between people, "
    "so computations belong in the application."
)


class SafeEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]
    """Evaluates expressions with the safe evaluator; refuses scripts and service calls."""

    def __init__(self, evaluator: Evaluator | None = None) -> None:
        super().__init__({})
        self.evaluator = evaluator or Evaluator()

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        variables: Mapping[str, Any] = context
        if external_context:
            variables = ChainMap(dict(context), dict(external_context))
        return self.evaluator.evaluate(expression, variables)

    def execute(self, script: str, context: Any, external_context: Any = None) -> bool:
        raise ExpressionError(_NO_SCRIPTS)

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ExpressionError(_NO_SCRIPTS)


class CircuitScriptEngine(PythonScriptEngine):  # type: ignore[misc]
    """A script engine bound to one step: its environment and the `now` timers must use."""

    def __init__(self, environment: SafeEnvironment, now: datetime) -> None:
        super().__init__(environment=environment)
        self.now = now

    def validate(self, expression: str) -> None:
        compile_expression(expression)

    def evaluate(self, task: Any, expression: str, external_context: Any = None) -> Any:
        # Our errors already say what is wrong; SpiffWorkflow's wrapping would bury the message.
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as error:
            where = task.task_spec.bpmn_name or task.task_spec.bpmn_id or task.task_spec.name
            raise type(error)(f"{error} (at '{where}')") from None

    def execute(self, task: Any, script: str, external_context: Any = None) -> bool:
        raise ExpressionError(_NO_SCRIPTS)

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        raise ExpressionError(_NO_SCRIPTS)
