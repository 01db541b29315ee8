"""The fixed forms of the task pages: reassignment (to a person, to a unit's pool) and absence
delegation."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from web.forms import Form


class ReassignForm(Form):
    to_user_id = SelectField(_l("Confier à"), coerce=str, validate_choice=False)
    comment = TextAreaField(_l("Motif (facultatif)"), validators=[Optional(), Length(max=5000)])


class PoolForm(Form):
    unit_id = SelectField(_l("Entité"), coerce=str, validate_choice=False)
    comment = TextAreaField(_l("Motif (facultatif)"), validators=[Optional(), Length(max=5000)])


class DelegationForm(Form):
    from_user_id = SelectField(_l("Personne absente"), coerce=str, validate_choice=False)
    to_user_id = SelectField(_l("Déléguer à"), coerce=str, validate_choice=False)
    starts_on = DateField(_l("Du"), validators=[DataRequired()])
    ends_on = DateField(_l("Au (inclus)"), validators=[DataRequired()])
    reason = StringField(_l("Motif (facultatif)"), validators=[Optional(), Length(max=500)])
