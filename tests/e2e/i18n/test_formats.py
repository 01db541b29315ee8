"""Dates, times, sizes and numbers follow the page's language: Moroccan conventions in Arabic."""

from __future__ import annotations

import datetime as dt

from flask import Flask

from web.i18n import format_day, format_moment, format_number
from web.mail.labels import action_detail, human_size

DAY = dt.date(2026, 3, 9)
MOMENT = dt.datetime(2026, 6, 9, 13, 5, tzinfo=dt.UTC)  # UTC+1 in Casablanca (not Ramadan)
RLM = "\u200f"


def test_french_formats_are_the_registry_s_usual_ones(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        assert format_day(DAY) == "09/03/2026"
        assert format_moment(MOMENT, "Africa/Casablanca") == "09/06/2026 14:05"
        assert human_size(1536) == "1,5 Ko"
        assert human_size(12) == "12 o"
        assert format_number(1234567) == "1\u202f234\u202f567"
        assert action_detail("mail.updated", {"subject": ["a", "b"]}) == "Modifié : objet"


def test_arabic_uses_the_moroccan_locale_with_latin_digits(app: Flask) -> None:
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        assert format_day(DAY) == f"9{RLM}/3{RLM}/2026"
        assert format_moment(MOMENT, "Africa/Casablanca") == f"9{RLM}/6{RLM}/2026، 14:05"
        assert human_size(1536) == "1,5 كيلوبايت"
        assert format_number(1234567) == "1.234.567"
        assert action_detail("mail.updated", {"subject": ["a", "b"]}) == "عُدّل: الموضوع"
        assert format_day(None) == "—"


def test_outside_a_request_everything_is_french() -> None:
    assert format_day(DAY) == "09/03/2026"
    assert human_size(1536) == "1,5 Ko"
