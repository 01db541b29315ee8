"""The interface's catalogues, read without Flask: for what ged writes outside a web request.

E-mails are built by jobs and by the steps of other people (a reminder, a task handed over), and
the cover sheet by a service: none of them can use Flask-Babel's request locale. They take a
`Language` for the recipient's (or the printing person's) ``users.locale`` instead, read from
the same compiled catalogues as the pages (``web/translations/<lang>/LC_MESSAGES/messages.mo``),
so that a sentence is translated once. Strings are marked with ``language.gettext("…")`` and
``language.ngettext("…", "…", n)``; the extractor of ``babel.cfg`` collects those calls from
``ged/`` (``web/babel_extract.py``).

Values are interpolated the way Flask-Babel does it (``%(name)s``, ``num`` for counts), so one
catalogue entry reads the same in a page and in an e-mail.
"""

from __future__ import annotations

import datetime as dt
import functools
import gettext
import logging
from dataclasses import dataclass
from pathlib import Path

from babel import dates as babel_dates
from babel.support import Translations

from ged.config import PROJECT_ROOT
from ged.domain.model import Locale

logger = logging.getLogger(__name__)

DOMAIN = "messages"
# Where `make translations` compiles the catalogues (shared with the web interface).
DEFAULT_DIRECTORY = PROJECT_ROOT / "web" / "translations"
# Arabic as written in Morocco (Latin digits, day/month/year), as in web/i18n.py.
BABEL_LOCALES = {Locale.FR.value: "fr", Locale.AR.value: "ar_MA"}


@dataclass(frozen=True)
class Language:
    """One language's translations and date formats."""

    code: str  # fr or ar
    translations: gettext.NullTranslations

    @property
    def is_rtl(self) -> bool:
        return Locale(self.code).is_rtl

    @property
    def direction(self) -> str:
        return "rtl" if self.is_rtl else "ltr"

    def gettext(self, message: str, **values: object) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, num: int, **values: object) -> str:
        values.setdefault("num", num)
        return self.translations.ngettext(singular, plural, num) % values

    def translate(self, text: str) -> str:
        """A label known only at run time (a step's name): translated when the catalogue has it."""
        return self.translations.gettext(text) if text else text

    def day(self, day: dt.date) -> str:
        """23/11/2026 in French; the same order with Moroccan Arabic conventions."""
        if self.code == Locale.FR.value:
            return day.strftime("%d/%m/%Y")
        return babel_dates.format_date(day, "short", locale=BABEL_LOCALES[self.code])

    def time(self, moment: dt.datetime) -> str:
        if self.code == Locale.FR.value:
            return moment.strftime("%H:%M")
        return babel_dates.format_time(
            moment, "short", tzinfo=moment.tzinfo, locale=BABEL_LOCALES[self.code]
        )


class Catalogues:
    """The compiled catalogues of a directory, loaded once per language."""

    def __init__(self, directory: Path = DEFAULT_DIRECTORY) -> None:
        self._directory = directory

    @functools.cache  # noqa: B019 (one instance per process: the cache lives as long)
    def language(self, code: str | None) -> Language:
        """The language of ``users.locale``; French (the source text) for anything else."""
        # French is the source language: the msgids themselves, with French plural rules.
        french = Language(Locale.FR.value, self._load(Locale.FR.value))
        if code not in BABEL_LOCALES or code == Locale.FR.value:
            return french
        translations = self._load(code)
        if not isinstance(translations, Translations):
            return french  # rather French laid out left to right than French in an RTL frame
        return Language(code, translations)

    def _load(self, code: str) -> gettext.NullTranslations:
        translations = Translations.load(str(self._directory), [code], DOMAIN)
        if not isinstance(translations, Translations):
            # A checkout where `make translations` has not run: say so, write French.
            logger.warning(
                "no compiled %s catalogue in %s: run `make translations`", code, self._directory
            )
        return translations


@functools.cache
def default_catalogues() -> Catalogues:
    return Catalogues()
