"""The fast paths of the shared analysis give exactly what the reference regular expression does."""

from __future__ import annotations

import pytest

from ged.adapters.analysis import (
    TOKEN_RE,
    analyse,
    fold_name_word,
    normalise_name,
    terms,
    words,
)
from ged.adapters.search_tantivy import highlight

TEXTS = [
    "Demande d'autorisation de lotir — l’éclairage public (n° 12/2026), zone_nord.",
    "نطلب منكم رُخْصَة البِنَاء والأشغال، وشكراً؛ هل ٢٠٢٦؟",
    "Objet : رخصة البناء pour l'Éclairage… «voirie» ; quartier Agdal-Riyad ...",
    "  tabs\tand\nnew lines  ",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_words_match_the_token_expression(text: str) -> None:
    assert words(text) == TOKEN_RE.findall(text)


@pytest.mark.parametrize("text", TEXTS)
def test_terms_are_those_of_analyse_in_order(text: str) -> None:
    assert terms(text) == [t.text for t in analyse(text)]


def test_names_fold_word_by_word() -> None:
    assert fold_name_word("Générale") == "generale"
    assert normalise_name("Société Générale, Rabat") == "societe generale rabat"


def test_highlight_marks_the_written_forms_of_the_wanted_terms() -> None:
    text = "Demande pour l'Éclairage public. Les éclairages <b>neufs</b> et والبِنَاء"
    wanted = set(terms("eclairage بناء"))
    snippet = highlight(text, wanted, 2)
    assert "<mark>Éclairage</mark>" in snippet
    assert "<mark>éclairages</mark>" in snippet
    assert "<mark>والبِنَاء</mark>" in snippet
    assert "&lt;b&gt;neufs&lt;/b&gt;" in snippet
    assert "<b>" not in snippet


def test_highlight_marks_whole_words_only_and_cuts_long_texts() -> None:
    text = "publication " * 50 + "éclairage public " + "suite " * 100
    snippet = highlight(text, set(terms("public")), 2)
    assert snippet.count("<mark>") == 1
    assert "<mark>public</mark>" in snippet
    assert len(snippet) < 300
    assert highlight(text, set(terms("voirie")), 2) == ""
