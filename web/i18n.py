"""The interface language: French (the source) or Arabic (right to left), per person.

The language comes from the account once logged in; before that from the choice made on the
login page (kept in the session), else from the browser's Accept-Language, else French.
Arabic is formatted with the Moroccan conventions (``ar_MA``): Latin digits, as in the
agency's own letters and registers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import (
    Blueprint,
    Flask,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import Babel, gettext, lazy_gettext
from flask_login import current_user, login_required
from wtforms import SelectField

from ged.domain.errors import Label, Message
from ged.domain.model import Locale
from web.extensions import container
from web.forms import LOCALE_CHOICES, Form
from web.users import current_actor

LANGUAGES = tuple(loc.value for loc in Locale)
DEFAULT_LANGUAGE = Locale.FR.value
# What Babel formats with: Arabic as written in Morocco (Latin digits, day/month/year).
BABEL_LOCALES = {Locale.FR.value: "fr", Locale.AR.value: "ar_MA"}
SESSION_KEY = "locale"

babel = Babel()
bp = Blueprint("i18n", __name__)


def current_language() -> str:
    """``fr`` or ``ar`` for this request; French outside one (CLI, jobs)."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    if current_user.is_authenticated:
        language: str = current_user.locale.value
        return language
    chosen = session.get(SESSION_KEY)
    if chosen in LANGUAGES:
        return str(chosen)
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LANGUAGE


def select_locale() -> str:
    return BABEL_LOCALES[current_language()]


def babel_locale() -> BabelLocale:
    return BabelLocale.parse(select_locale())


def is_rtl() -> bool:
    return Locale(current_language()).is_rtl


def format_day(day: dt.date | None) -> str:
    """23/11/2026 in French; the same order with Moroccan Arabic conventions."""
    if day is None:
        return "—"
    if current_language() == DEFAULT_LANGUAGE:
        return day.strftime("%d/%m/%Y")
    return babel_dates.format_date(day, "short", locale=babel_locale())


def format_moment(moment: dt.datetime | None, zone: str | None = None) -> str:
    """Date and time in the agency's zone (or as given when ``zone`` is None)."""
    if moment is None:
        return "—"
    if zone is not None:
        moment = moment.astimezone(ZoneInfo(zone))
    if current_language() == DEFAULT_LANGUAGE:
        return moment.strftime("%d/%m/%Y %H:%M")
    return babel_dates.format_datetime(moment, "short", tzinfo=moment.tzinfo, locale=babel_locale())


def format_number(value: float | int) -> str:
    return babel_numbers.format_decimal(value, locale=babel_locale())


def N_(text: str) -> str:  # noqa: N802  (the name xgettext and pybabel look for)
    """Marks a label for the catalogue where it is defined; ``translate`` shows it later."""
    return text


# Names ged builds from a circuit step's name (ged.services.tasks) and stores in French: the
# escalation of a late task. Shown with the step's name translated inside the translated frame.
GENERATED_NAMES = (N_("Délai dépassé : %(name)s"),)
_GENERATED = tuple(
    (template, re.compile(re.escape(template).replace(re.escape("%(name)s"), "(?P<name>.+)")))
    for template in GENERATED_NAMES
)


def translate(text: object) -> str:
    """A label computed at run time (enum labels, service messages): translated when the
    catalogue knows it, else shown as it is. The result is plain text, escaped by Jinja.

    A service's message (``GedError.message``) is translated from its template, its values
    filled in the page's language: dates formatted, labels translated, the rest as given.
    """
    if text is None:
        return ""
    if isinstance(text, Message) and text.params:
        return str(gettext(text.template, **{k: _localized(v) for k, v in text.params.items()}))
    raw = str(text)
    if not raw:
        return raw
    shown = str(gettext(raw))
    if shown == raw:
        return _generated(raw)
    return shown


def _generated(raw: str) -> str:
    for template, pattern in _GENERATED:
        found = pattern.fullmatch(raw)
        if found:
            return str(gettext(template, name=translate(found["name"])))
    return raw


def _localized(value: object) -> object:
    if isinstance(value, dt.datetime):
        return format_moment(value)
    if isinstance(value, dt.date):
        return format_day(value)
    if isinstance(value, Label):
        return translate(str(value))
    return value


# -- Names of units and mail types -----------------------------------------------------------
# The agency names its units and mail types in French (``name``) and, when it wishes, in Arabic
# (``name_ar``). An Arabic page shows the Arabic name when there is one, else the French name.


def local_name(item: Any) -> str:
    """The name of a unit or a mail type (anything with ``name`` and ``name_ar``) in the page's
    language."""
    if item is None:
        return ""
    name_ar = getattr(item, "name_ar", "")
    if name_ar and current_language() == Locale.AR.value:
        return str(name_ar)
    return str(item.name)


def unit_name(unit_id: object, name: str) -> str:
    """The name of unit ``unit_id`` in the page's language, where a view carries only its
    French ``name``."""
    found = _arabic_named("units", unit_id)
    return str(found.name_ar) if found is not None else name


def unit_label(unit_id: object, label: str) -> str:
    """``CODE · name`` of unit ``unit_id`` in the page's language (the dashboards' rows)."""
    found = _arabic_named("units", unit_id)
    return f"{found.code} · {found.name_ar}" if found is not None else translate(label)


def coded_unit_label(label: str) -> str:
    """A view's ``CODE · name`` of a unit, named in the page's language (found by its code)."""
    code, dot, _name = label.partition(" · ")
    found = _arabic_named("unit_codes", code) if dot else None
    return f"{found.code} · {found.name_ar}" if found is not None else translate(label)


def mail_type_name(type_id: object, name: str) -> str:
    """The name of mail type ``type_id`` in the page's language, where a view carries only
    its French ``name``."""
    found = _arabic_named("mail_types", type_id)
    return str(found.name_ar) if found is not None else translate(name)


def _arabic_named(kind: str, key: object) -> Any:
    """The active unit or mail type ``key`` when the page is Arabic and it has an Arabic name.

    Loaded once per request: an agency has tens or hundreds of them."""
    if key in (None, "") or current_language() != Locale.AR.value:
        return None
    cache = g.setdefault("arabic_names", {})
    if kind not in cache:
        registry = container().registry
        rows = registry.mail_types() if kind == "mail_types" else registry.units()
        by_code = kind == "unit_codes"
        cache[kind] = {row.code if by_code else str(row.id): row for row in rows if row.name_ar}
    return cache[kind].get(str(key))


class LanguageForm(Form):
    locale = SelectField(lazy_gettext("Langue de l'interface"), choices=LOCALE_CHOICES)


# Why a version's text could not be read, by the OCR pipeline's error code (ocr.errors and
# ged.services.capture). The pipeline words each reason in French with its figures (sizes, page
# numbers); a page in another language gets the gist of its code, in that language.
OCR_FAILURES = {
    "unsupported-type": N_("Ce type de fichier ne peut pas être lu."),
    "too-large": N_("Le fichier dépasse la taille permise."),
    "too-many-pages": N_("Le document a plus de pages que permis."),
    "too-many-pixels": N_("Une page a plus de pixels que permis."),
    "timeout": N_("La lecture d'une page a pris trop de temps."),
    "memory": N_("La lecture d'une page a demandé trop de mémoire."),
    "encrypted": N_("Le PDF est protégé par un mot de passe."),
    "malformed": N_("Le fichier est endommagé ou illisible."),
    "internal": N_("La lecture a échoué plusieurs fois pour une raison technique."),
}


def ocr_failure(code: str, reason: str) -> str:
    """Why the OCR failed, for the page's reader: the pipeline's own words on a French page."""
    if current_language() == "fr" and reason:
        return reason
    return str(gettext(OCR_FAILURES.get(code, N_("La lecture du texte a échoué."))))


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("main.home")


@bp.post("/language")
def switch() -> ResponseReturnValue:
    """The language switch of the pages seen before logging in (and of the navigation bar)."""
    chosen = request.form.get("locale", "")
    if chosen not in LANGUAGES:
        flash(gettext("Langue inconnue."), "danger")
        return redirect(_safe_next(request.form.get("next")), 303)
    if current_user.is_authenticated:
        container().accounts.set_locale(current_actor(), chosen)
    session[SESSION_KEY] = chosen
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.route("/account/language", methods=["GET", "POST"])
@login_required
def preference() -> ResponseReturnValue:
    form = LanguageForm()
    if request.method == "GET":
        form.locale.data = current_language()
    elif form.validate_on_submit():
        container().accounts.set_locale(current_actor(), form.locale.data or "")
        # The account was loaded before the change: the message speaks the new language.
        current_user.user.locale = form.locale.data
        flash(gettext("Votre langue est enregistrée."), "success")
        return redirect(url_for("i18n.preference"), 303)
    status = 400 if form.errors else 200
    return render_template("account/language.html", form=form), status


def _template_helpers() -> dict[str, Any]:
    return {
        "current_language": current_language,
        "is_rtl": is_rtl,
        "day": format_day,
        "moment": lambda value, utc=False: format_moment(
            value, None if utc else container().settings.timezone
        ),
        "number": format_number,
        "unit_name": unit_name,
        "unit_label": unit_label,
        "coded_unit_label": coded_unit_label,
        "mail_type_name": mail_type_name,
        "ocr_failure": ocr_failure,
        "LANGUAGE_CHOICES": LOCALE_CHOICES,
    }


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["tr"] = translate
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["local_name"] = local_name
    app.context_processor(_template_helpers)
    app.register_blueprint(bp)
