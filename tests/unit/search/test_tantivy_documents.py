"""The tantivy adapter indexes each whitespace chunk's cached analysis: the same terms, in the
same order, as the shared analysis gives for the whole text."""

from __future__ import annotations

import datetime as dt

import pytest

from ged.adapters.analysis import fold_name_word, terms, words
from ged.adapters.search_tantivy import MAX_TERM_CHARS, TantivySearchIndex
from ged.domain.search import IndexedItem

TEXTS = [
    "Demande d'autorisation de lotir — l’éclairage public (n° 12/2026), zone_nord.",
    "نطلب منكم رُخْصَة البِنَاء والأشغال، وشكراً؛ هل ٢٠٢٦؟",
    "Objet : رخصة البناء pour l'Éclairage… «voirie» ; quartier Agdal-Riyad ... de la",
    "  tabs\tand\nnew lines  ",
    "",
]


@pytest.mark.parametrize("text", TEXTS)
def test_indexed_terms_are_those_of_the_shared_analysis(text: str) -> None:
    item = IndexedItem("mail:1", "mail", 1, text, dt.date(2026, 1, 1), body=text + " " + text)
    fields = TantivySearchIndex._document(item).to_dict()
    assert fields["title"] == [" ".join(terms(text))]
    assert fields["body"] == [" ".join(terms(text + " " + text))]
    assert bytes(fields["body_text"][0]).decode() == text + " " + text
    spelling = set(fields["spell"][0].split())
    assert spelling == {fold_name_word(w) for w in words(text)}


def test_overlong_tokens_are_left_out_of_terms_and_spelling() -> None:
    noise = "x" * (MAX_TERM_CHARS + 1)
    item = IndexedItem("mail:1", "mail", 1, "voirie", dt.date(2026, 1, 1), body=f"{noise} voirie")
    fields = TantivySearchIndex._document(item).to_dict()
    assert fields["body"] == [" ".join(terms("voirie"))]
    assert fields["spell"][0].split() == ["voirie"]
