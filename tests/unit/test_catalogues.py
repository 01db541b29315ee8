"""The catalogues ged reads without Flask: the interface's own, with Arabic plural forms."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from ged.adapters.catalogues import Catalogues, default_catalogues


def test_arabic_counts_take_the_plural_form_of_their_number() -> None:
    arabic = default_catalogues().language("ar")

    def late(n: int) -> str:
        return arabic.ngettext("%(num)d en retard", "%(num)d en retard", n)

    assert late(1) == "1 مهمة متأخرة"
    assert late(2) == "2 مهمتان متأخرتان"
    assert late(3) == "3 مهام متأخرة"
    assert late(10) == "10 مهام متأخرة"
    assert late(11) == "11 مهمة متأخرة"
    assert late(103) == "103 مهام متأخرة"


def test_french_is_the_source_text_with_french_plurals() -> None:
    french = default_catalogues().language("fr")

    assert french.ngettext("… et %(num)d autre tâche.", "… et %(num)d autres tâches.", 0) == (
        "… et 0 autre tâche."
    )
    assert french.gettext("Bonjour %(name)s,", name="Awa") == "Bonjour Awa,"
    assert french.day(dt.date(2026, 12, 6)) == "06/12/2026"
    assert not french.is_rtl


def test_arabic_dates_follow_the_moroccan_conventions() -> None:
    arabic = default_catalogues().language("ar")

    assert arabic.day(dt.date(2026, 12, 6)).replace("\u200f", "") == "6/12/2026"
    assert arabic.translate("Traiter le courrier") == "معالجة البريد"
    assert arabic.translate("Un nom de tâche inconnu") == "Un nom de tâche inconnu"
    assert arabic.direction == "rtl"


@pytest.mark.parametrize("locale", ["ar", "en", None, ""])
def test_without_a_compiled_catalogue_or_a_known_locale_ged_writes_french(
    tmp_path: Path, locale: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        language = Catalogues(tmp_path).language(locale)

    assert language.code == "fr"
    assert language.gettext("Bonjour %(name)s,", name="Awa") == "Bonjour Awa,"
    assert "make translations" in caplog.text
