"""``GET /api/v1/me``: the account making the request."""

from __future__ import annotations

from flask_login import current_user, login_required
from marshmallow import Schema, fields

from ged.adapters.orm import User
from web.api.common import bp, secured


class UnitRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class MeSchema(Schema):
    id = fields.Integer(required=True)
    username = fields.String(required=True)
    full_name = fields.String(required=True)
    email = fields.String()
    role = fields.String(required=True)
    locale = fields.String(required=True)
    unit = fields.Nested(UnitRefSchema, allow_none=True)


@bp.route("/me")
@bp.response(200, MeSchema)
@secured
@login_required
def me() -> User:
    """The account making the request."""
    user: User = current_user.user
    return user
