"""Errors raised by the circuit engine, each with a message a person can act on.

Every error is a `CircuitError`, so callers that only need "it was refused, say why" catch that;
the subclasses let the service layer choose a response (bad upload, stale form, bad data).
"""

from __future__ import annotations


class CircuitError(Exception):
    """A circuit operation was refused; `str(error)` says why and what to do."""

    @property
    def message(self) -> str:
        return str(self)


class InvalidCircuit(CircuitError):
    """A BPMN definition was refused: unsafe XML, not BPMN 2.0, or not a valid circuit."""


class ExpressionError(CircuitError):
    """A gateway condition or timer expression was refused or could not be evaluated."""


class ExpressionTimeout(ExpressionError):
    """An expression ran past its time limit."""


class InvalidState(CircuitError):
    """A saved instance state cannot be used with this definition (unreadable or another version)."""


class TaskNotReady(CircuitError):
    """The task is unknown, already done, cancelled, or not yet reached in this state."""


class InvalidTaskData(CircuitError):
    """The data given to complete a task is missing an outcome or a required value, or is not JSON."""
