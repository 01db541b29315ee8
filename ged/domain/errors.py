"""Errors a person can act on; the web layer turns them into a message or an RFC 9457 problem.

A message is written once, in French, as a template with named values
(``raise NotFound("Tâche %(id)s introuvable.", id=task_id)``), never as an f-string: the
template is the catalogue's msgid, so the interface can show it in the reader's language while
the CLI, the logs and the API read the French text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping


class Label(str):
    """A value that is itself a word of the interface (an outcome, a status), not a person's
    text: the interface translates it along with the message that names it."""

    __slots__ = ()


class Message(str):
    """The French text of an error, which remembers its template and values.

    It reads as the French text everywhere a string is expected; ``web.i18n.translate`` looks
    for ``template`` in the catalogue and fills in ``params`` in the page's language.
    """

    template: str
    params: Mapping[str, object]

    def __new__(cls, template: str, params: Mapping[str, object] | None = None) -> Message:
        values = dict(params or {})
        text = template % {k: french(v) for k, v in values.items()} if values else template
        message = super().__new__(cls, text)
        message.template = template
        message.params = values
        return message


def french(value: object) -> object:
    """A value as the French text shows it: dates the way the agency writes them."""
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y à %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


class GedError(Exception):
    """Base of every error ged reports to a person rather than as a traceback."""

    status = 400
    code = "error"

    def __init__(self, message: str, **params: object) -> None:
        # A Message passed on (re-raised under another class) keeps its template and values.
        if params or not isinstance(message, Message):
            message = Message(message, params)
        super().__init__(message)
        self.message: Message = message


class ConfigurationError(GedError):
    code = "configuration"


class ValidationError(GedError):
    code = "invalid"

    def __init__(self, message: str, field: str | None = None, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


class NotFound(GedError):
    status = 404
    code = "not-found"


class PermissionDenied(GedError):
    status = 403
    code = "forbidden"


class AuthenticationFailed(GedError):
    status = 401
    code = "unauthenticated"


class Conflict(GedError):
    status = 409
    code = "conflict"


class StorageError(GedError):
    status = 500
    code = "storage"
