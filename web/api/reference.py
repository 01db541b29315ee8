"""Reference data a client needs to register mail: mail types, units, correspondents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_login import login_required
from marshmallow import fields, validate

from ged.adapters.orm import Correspondent, MailType, Unit
from web.api.common import ApiSchema, Int, Str, bp, secured
from web.extensions import container
from web.users import current_actor


class MailTypeSchema(ApiSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_ar = fields.String()
    delay_days = fields.Integer(
        required=True, metadata={"description": "Processing delay in working days"}
    )


class UnitSchema(ApiSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    name = fields.String(required=True)
    name_ar = fields.String()
    parent_id = fields.Integer(allow_none=True)


class CorrespondentSchema(ApiSchema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "person or organisation"})
    organisation = fields.String()
    city = fields.String()


class CorrespondentQuerySchema(ApiSchema):
    q = Str(
        required=True,
        validate=validate.Length(max=100, error="100 caractères au plus."),
        metadata={"description": "Part of the name; fewer than 2 characters find nothing"},
    )
    limit = Int(
        load_default=10,
        validate=validate.Range(1, 50, error="Entre 1 et 50."),
    )


@bp.route("/mail-types")
@bp.response(200, MailTypeSchema(many=True))
@secured
@login_required
def list_mail_types() -> Sequence[MailType]:
    """Active mail types, by name; ``delay_days`` sets the due date of incoming mail."""
    return container().registry.mail_types()


@bp.route("/units")
@bp.response(200, UnitSchema(many=True))
@secured
@login_required
def list_units() -> Sequence[Unit]:
    """Active units of the org chart, by code (``parent_id`` gives the tree)."""
    return container().registry.units()


@bp.route("/correspondents")
@bp.arguments(CorrespondentQuerySchema, location="query")
@bp.response(200, CorrespondentSchema(many=True))
@secured
@login_required
def find_correspondents(args: Mapping[str, Any]) -> list[Correspondent]:
    """Autocomplete: correspondents whose name contains ``q``, prefix matches first."""
    return container().registry.find_correspondents(current_actor(), args["q"], args["limit"])
