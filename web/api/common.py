"""What every API module shares: the blueprint, its request parser, French fields, problems.

Every input schema refuses unknown fields (marshmallow ``RAISE``) in every location, so a
client cannot slip ``chrono``, ``status`` or ``owner_id`` past the schema: it gets a 422
problem naming the field, and the service never sees it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import flask
import marshmallow as ma
from flask.typing import ResponseReturnValue
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import UnprocessableEntity, UnsupportedMediaType

from ged.domain.errors import GedError, ValidationError
from web import problem

# Identifiers are 32-bit integers in the database: anything larger is refused here rather than
# reaching PostgreSQL as an out-of-range parameter.
MAX_ID = 2**31 - 1
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class ApiParser(FlaskParser):
    """webargs' Flask parser, strict everywhere, with a ``multipart`` location.

    ``multipart`` reads fields and files of one ``multipart/form-data`` body with one schema,
    so the OpenAPI document shows a single request body with both.
    """

    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": ma.RAISE,
        "querystring": ma.RAISE,
        "form": ma.RAISE,
        "files": ma.RAISE,
        "multipart": ma.RAISE,
    }
    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req: flask.Request, schema: ma.Schema) -> Any:
        if req.mimetype not in FORM_TYPES:
            raise UnsupportedMediaType("Envoyez les champs et les fichiers en multipart/form-data.")
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = ApiParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }


# The blueprint keeps the name "api": Flask-Login answers 401 instead of redirecting for it.
bp = ApiBlueprint("api", __name__, url_prefix="/api/v1", description="ged REST API")
# Documents, on an operation, that it needs a bearer token (or a browser session).
secured = bp.doc(security=[{"bearerAuth": []}])


# --- schemas and fields with French messages ----------------------------------------------

_COMMON = {
    "required": "Champ obligatoire.",
    "null": "Ce champ ne peut pas être vide.",
    "validator_failed": "Valeur invalide.",
}


class ApiSchema(ma.Schema):
    error_messages = {
        "unknown": "Champ non accepté : il n'existe pas ou ne peut pas être fixé par le client.",
        "type": "Données de type inattendu.",
    }


class BlankIsMissing:
    """An empty form value reads as None, "not given" (HTML forms send empty strings)."""

    def deserialize(self, value: Any, *args: Any, **kwargs: Any) -> Any:
        if value == "":
            value = None
        return super().deserialize(value, *args, **kwargs)  # type: ignore[misc]


class Str(fields.String):
    default_error_messages = {
        **_COMMON,
        "invalid": "Texte attendu.",
        "invalid_utf8": "Texte UTF-8 attendu.",
    }


class Int(fields.Integer):
    default_error_messages = {
        **_COMMON,
        "invalid": "Nombre entier attendu.",
        "too_large": "Nombre trop grand.",
    }


class OptionalInt(BlankIsMissing, Int):
    pass


class Bool(fields.Boolean):
    default_error_messages = {**_COMMON, "invalid": "Valeur attendue : true ou false."}


class Date(BlankIsMissing, fields.Date):
    default_error_messages = {
        **_COMMON,
        "invalid": "Date attendue au format AAAA-MM-JJ.",
        "format": "Date attendue au format AAAA-MM-JJ.",
    }


class List(fields.List):  # type: ignore[type-arg]
    default_error_messages = {**_COMMON, "invalid": "Liste attendue."}


class File(Upload):
    default_error_messages = {**_COMMON}


def identifier(**kwargs: Any) -> Int:
    """An id of a row: a positive 32-bit integer; blank means not given."""
    return OptionalInt(
        validate=validate.Range(1, MAX_ID, error="Identifiant invalide."),
        allow_none=True,
        **kwargs,
    )


def one_of(choices: list[str], **kwargs: Any) -> Str:
    return Str(
        validate=validate.OneOf(choices, error="Valeur inconnue ; valeurs possibles : {choices}."),
        **kwargs,
    )


class ProblemSchema(ma.Schema):
    """RFC 9457 problem document; ``errors`` maps a field to its messages."""

    type = Str(metadata={"description": "Always about:blank"})
    title = Str(metadata={"description": "Short code of the problem"})
    status = Int()
    detail = Str(metadata={"description": "What went wrong and what to do, in French"})
    errors = fields.Dict(keys=Str(), values=fields.List(Str()))


def problem_response(status: int, description: str) -> Any:
    """Documents one more error answer of an operation, as a problem document."""
    return bp.alt_response(
        status,
        schema=ProblemSchema,
        description=description,
        content_type="application/problem+json",
    )


# --- errors -------------------------------------------------------------------------------


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs nests messages by location (``{"multipart": {"chrono": [...]}}``), lists by
    index: flatten them to ``{"chrono": [...]}`` / ``{"unit_ids.0": [...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            out.update(_flatten(value, name))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            out.update(_flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


@bp.errorhandler(UnprocessableEntity)
def _invalid_request(exc: UnprocessableEntity) -> ResponseReturnValue:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages", {})
    locations = set(FlaskParser.__location_map__) | {"multipart"}
    if isinstance(messages, Mapping) and set(messages) <= locations:
        merged: dict[str, Any] = {}
        for by_field in messages.values():
            merged.update(by_field)
        messages = merged
    errors = _flatten(messages)
    listed = " ".join(f"{name} : {' '.join(msgs)}" for name, msgs in sorted(errors.items()))
    detail = f"Requête refusée. {listed}" if listed else "Requête refusée : données invalides."
    return problem(422, "invalid", detail, errors=errors)


@bp.errorhandler(GedError)
def _ged_error(exc: GedError) -> ResponseReturnValue:
    """As the application's handler, plus the field a validation error is about."""
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationError) and exc.field:
        extra["errors"] = {exc.field: [exc.message]}
    return problem(exc.status, exc.code, exc.message, **extra)
