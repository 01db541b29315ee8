"""The interface language: French (the source) or Arabic (right to left), per person.

The language comes from the account once logged in; before that from the choice made on the
login page (kept in the session), else from the browser's Accept-Language, else French.
Arabic is formatted with the Moroccan conventions (``ar_MA``): Latin digits, as in the
agency's own letters and registers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale as BabelLocale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from flask import (
    Blueprint,
    Flask,
    flash,
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


def translate(text: object) -> str:
    """A label computed at run time (enum labels, service messages): translated when the
    catalogue knows it, else shown as it is. The result is plain text, escaped by Jinja."""
    if text is None:
        return ""
    raw = str(text)
    return gettext(raw) if raw else raw


class LanguageForm(Form):
    locale = SelectField(lazy_gettext("Langue de l'interface"), choices=LOCALE_CHOICES)


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
        "LANGUAGE_CHOICES": LOCALE_CHOICES,
    }


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["tr"] = translate
    app.jinja_env.filters["number"] = format_number
    app.context_processor(_template_helpers)
    app.register_blueprint(bp)
