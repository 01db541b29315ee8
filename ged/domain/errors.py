"""Errors a person can act on; the web layer turns them into a message or an RFC 9457 problem."""

from __future__ import annotations


class GedError(Exception):
    """Base of every error ged reports to a person rather than as a traceback."""

    status = 400
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigurationError(GedError):
    code = "configuration"


class ValidationError(GedError):
    code = "invalid"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
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
