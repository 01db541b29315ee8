"""WTForms forms: they parse and bound input; rules live in the services."""

from __future__ import annotations

import functools
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from wtforms import (  # type: ignore[attr-defined]
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.i18n import get_translations
from wtforms.validators import DataRequired, EqualTo, Length, NumberRange, Optional

from ged.domain.model import Channel, Direction, Locale, MailStatus, Priority, Role

# SelectChoice, not tuples: WTForms 3.3 deprecates tuple choices (removed in 3.4); types-WTForms
# does not know SelectChoice yet, hence the ignore above.
LOCALE_CHOICES = [
    SelectChoice(Locale.FR.value, "Français"),
    SelectChoice(Locale.AR.value, "العربية"),
]
ROLE_CHOICES = [SelectChoice(r.value, _l(r.label)) for r in Role]
FILE_REQUIRED = _l("Choisissez un fichier.")


class Form(FlaskForm):
    """Field errors from WTForms' own catalogue, in the language of the page."""

    class Meta:
        def get_translations(self, form: Any) -> Any:
            from web.i18n import current_language  # web.i18n builds forms from this module

            return _wtforms_translations(current_language())


@functools.cache
def _wtforms_translations(language: str) -> Any:
    return get_translations([language])


class LoginForm(Form):
    username = StringField(_l("Identifiant"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=1024)])


class PasswordForm(Form):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired()])
    password = PasswordField(
        _l("Nouveau mot de passe"), validators=[DataRequired(), Length(max=1024)]
    )
    confirm = PasswordField(
        _l("Confirmer le nouveau mot de passe"),
        validators=[DataRequired(), EqualTo("password", _l("Les deux saisies diffèrent."))],
    )


class UnitForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=200)])
    name_ar = StringField(_l("Nom en arabe"), validators=[Optional(), Length(max=200)])
    parent_id = SelectField(_l("Entité parente"), coerce=str, validate_choice=False)
    manager_id = SelectField(_l("Responsable"), coerce=str, validate_choice=False)
    active = BooleanField(_l("Active"), default=True)


class UserForm(Form):
    username = StringField(_l("Identifiant"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Nom complet"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    role = SelectField(_l("Rôle"), choices=ROLE_CHOICES)
    unit_id = SelectField(_l("Entité"), coerce=str, validate_choice=False)
    locale = SelectField(_l("Langue"), choices=LOCALE_CHOICES)
    active = BooleanField(_l("Compte actif"), default=True)
    password = PasswordField(_l("Mot de passe initial"), validators=[Optional(), Length(max=1024)])


def optional_id(value: str | None) -> int | None:
    """Select fields send '' for "none"; anything that is not a number is treated as none."""
    return int(value) if value and value.isdigit() else None


# --- the document library ---------------------------------------------------------------------


class DocumentForm(Form):
    """Metadata of a library document; tags come comma-separated."""

    title = StringField(_l("Titre"), validators=[DataRequired(), Length(max=500)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=10_000)])
    classification_id = SelectField(
        _l("Rubrique du plan de classement"), coerce=str, validate_choice=False
    )
    tags = StringField(
        _l("Étiquettes (séparées par des virgules)"), validators=[Optional(), Length(max=2_000)]
    )
    confidential = BooleanField(_l("Confidentiel (visible seulement par son auteur)"))


class NewDocumentForm(DocumentForm):
    unit_id = SelectField(_l("Entité"), coerce=str, validate_choice=False)
    file = FileField(
        _l("Fichier (PDF, JPEG, PNG ou TIFF)"), validators=[FileRequired(FILE_REQUIRED)]
    )


class VersionForm(Form):
    file = FileField(_l("Fichier de la nouvelle version"), validators=[FileRequired(FILE_REQUIRED)])


class LegalHoldForm(Form):
    reason = StringField(_l("Motif"), validators=[DataRequired(), Length(max=500)])


class ClassificationForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Nom"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Rubrique parente"), coerce=str, validate_choice=False)


def split_tags(value: str | None) -> tuple[str, ...]:
    """'a, b ,,c' → ('a', 'b', 'c'); the service normalises case and spacing."""
    return tuple(tag for tag in (value or "").split(",") if tag.strip())


# --- mail registry (web/mail) ------------------------------------------------------------------

DIRECTION_CHOICES = [SelectChoice(d.value, _l(d.label)) for d in Direction]
PRIORITY_CHOICES = [SelectChoice(p.value, _l(p.label)) for p in Priority]
CHANNEL_CHOICES = [SelectChoice(c.value, _l(c.label)) for c in Channel]
MAIL_SORT_CHOICES = [
    SelectChoice("-registered", _l("Enregistrement, plus récent d'abord")),
    SelectChoice("registered", _l("Enregistrement, plus ancien d'abord")),
    SelectChoice("-chrono", _l("Numéro d'ordre, décroissant")),
    SelectChoice("chrono", _l("Numéro d'ordre, croissant")),
    SelectChoice("due", _l("Échéance, plus proche d'abord")),
    SelectChoice("-due", _l("Échéance, plus lointaine d'abord")),
]


class MailFieldsForm(Form):
    """What registration and correction share; chrono, status and owner are never fields."""

    subject = StringField(_l("Objet"), validators=[Length(max=500)], render_kw={"required": True})
    correspondent = StringField(_l("Correspondant"), validators=[Length(max=300)])
    # Set by picking a suggestion; typing clears it, and a typed name is looked up or created.
    correspondent_id = HiddenField()
    letter_date = DateField(_l("Date de la lettre"), validators=[Optional()])
    mail_date = DateField(_l("Date de réception ou d'envoi"), validators=[Optional()])
    sender_reference = StringField(_l("Référence de l'expéditeur"), validators=[Length(max=100)])
    mail_type_id = SelectField(_l("Type de courrier"), coerce=str, validate_choice=False)
    priority = SelectField(_l("Priorité"), choices=PRIORITY_CHOICES, default=Priority.NORMAL.value)
    confidential = BooleanField(_l("Confidentiel (visible des seules personnes désignées)"))
    channel = SelectField(_l("Canal"), choices=CHANNEL_CHOICES, default=Channel.POST.value)
    unit_ids = SelectMultipleField(_l("Entités destinataires"), coerce=str, validate_choice=False)
    person_ids = SelectMultipleField(_l("Personnes désignées"), coerce=str, validate_choice=False)


class MailForm(MailFieldsForm):
    """The registration screen: the shared fields, plus direction, answer and files."""

    direction = SelectField(_l("Sens"), choices=DIRECTION_CHOICES, default=Direction.INCOMING.value)
    answer_to = StringField(_l("En réponse au courrier arrivée n°"), validators=[Length(max=40)])
    files = MultipleFileField(_l("Fichiers"))


class MailEditForm(MailFieldsForm):
    """Correcting a registered mail: direction, chrono, status and files are not here."""


class MailFilterForm(Form):
    """The list's GET form; short parameter names keep shared links readable."""

    class Meta:
        csrf = False

    text = StringField(_l("Recherche"), validators=[Length(max=200)], name="q")
    direction = SelectField(
        _l("Sens"), choices=[SelectChoice("", _l("Tous")), *DIRECTION_CHOICES], default=""
    )
    status = SelectField(
        _l("Statut"),
        choices=[
            SelectChoice("", _l("Tous")),
            *(SelectChoice(s.value, _l(s.label)) for s in MailStatus),
        ],
        default="",
    )
    unit = SelectField(_l("Entité"), coerce=str, validate_choice=False, name="unit")
    mail_type = SelectField(_l("Type"), coerce=str, validate_choice=False, name="type")
    date_from = DateField(_l("Du"), validators=[Optional()], name="from")
    date_to = DateField(_l("Au"), validators=[Optional()], name="to")
    overdue = BooleanField(_l("En retard seulement"))
    sort = SelectField(_l("Tri"), choices=MAIL_SORT_CHOICES, default="-registered")
    per_page = IntegerField(
        _l("Par page"), validators=[Optional(), NumberRange(1, 200)], default=25
    )
    page = IntegerField(_l("Page"), validators=[Optional(), NumberRange(1)], default=1)


class RegisterExportForm(Form):
    """The legal register for a period (GET: a download link that can be shared)."""

    class Meta:
        csrf = False

    direction = SelectField(
        _l("Registre"), choices=DIRECTION_CHOICES, default=Direction.INCOMING.value
    )
    start = DateField(_l("Du"), validators=[DataRequired()], name="from")
    end = DateField(_l("Au"), validators=[DataRequired()], name="to")
    format = SelectField(
        _l("Format"),
        choices=[SelectChoice("csv", "CSV (Excel)"), SelectChoice("pdf", "PDF")],
        default="csv",
    )


class CommentForm(Form):
    body = TextAreaField(_l("Commentaire"), validators=[Length(max=5000)])


class LinkForm(Form):
    chrono = StringField(_l("Numéro d'ordre du courrier lié"), validators=[Length(max=40)])


class AttachForm(Form):
    files = MultipleFileField(_l("Fichiers à ajouter"))
