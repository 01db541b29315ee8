"""The fixed forms of the task pages: reassignment and absence delegation."""

from __future__ import annotations

from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from web.forms import Form


class ReassignForm(Form):
    to_user_id = SelectField("Confier à", coerce=str, validate_choice=False)
    comment = TextAreaField("Motif (facultatif)", validators=[Optional(), Length(max=5000)])


class DelegationForm(Form):
    from_user_id = SelectField("Personne absente", coerce=str, validate_choice=False)
    to_user_id = SelectField("Déléguer à", coerce=str, validate_choice=False)
    starts_on = DateField("Du", validators=[DataRequired()])
    ends_on = DateField("Au (inclus)", validators=[DataRequired()])
    reason = StringField("Motif (facultatif)", validators=[Optional(), Length(max=500)])
