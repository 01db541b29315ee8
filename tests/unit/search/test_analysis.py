"""French and Arabic analysis: variants a person types must meet the words in the letters."""

from __future__ import annotations

import pytest

from ged.adapters.analysis import analyse, normalise_name, terms


def same_terms(a: str, b: str) -> bool:
    return terms(a) == terms(b) and terms(a) != []


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("eclairage", "éclairage"),
        ("ECLAIRAGE", "Éclairage"),
        ("autorisations", "autorisation"),
        ("autorisation", "l'autorisation"),
        ("autorisation", "l’autorisation"),
        ("urbanisme", "d'urbanisme"),
        ("habitant", "qu'habitant"),
        ("batiments", "bâtiment"),
        ("deliberation", "délibérations"),
    ],
)
def test_french_accents_plurals_and_elisions_meet(typed: str, written: str) -> None:
    assert same_terms(typed, written)


def test_french_stop_words_are_dropped() -> None:
    assert terms("le plan de la ville et des communes") == ["plan", "vill", "commun"]


@pytest.mark.parametrize(
    ("typed", "written"),
    [
        ("رخصة", "رُخْصَة"),  # diacritics
        ("البناء", "البِنَاء"),
        ("بناء", "البناء"),  # article
        ("بناء", "للبناء"),  # preposition + article
        ("اشغال", "والأشغال"),  # conjunction + article + hamza alef
        ("أشغال", "الاشغال"),
        ("ادارة", "إدارة"),  # alef with hamza below
        ("اثار", "آثار"),  # alef madda
        ("مستشفي", "مستشفى"),  # alef maqsura
        ("مديره", "مديرة"),  # ta marbuta
        ("البناء", "البنـــاء"),  # tatweel
        ("رخصة", "رخص"),
    ],
)
def test_arabic_variants_meet(typed: str, written: str) -> None:
    assert same_terms(typed, written)


def test_arabic_light_stemming_keeps_distinct_words_apart() -> None:
    # A root stemmer would conflate these (office, book, writer).
    assert len({terms(w)[0] for w in ("المكتب", "الكتاب", "الكاتب")}) == 3


def test_arabic_indic_digits_become_ascii() -> None:
    assert terms("سنة ٢٠٢٦") == terms("سنة 2026")
    assert "2026" in terms("سنة ٢٠٢٦")


def test_mixed_french_and_arabic_text_gives_terms_of_both() -> None:
    found = terms("Demande de رخصة البناء pour l'éclairage")
    assert {"demand", "eclairag", "رخص", "بناء"} <= set(found)


def test_offsets_point_at_the_original_words_for_highlights() -> None:
    text = "Objet : l'autorisation de رُخْصَة"
    spans = [text[t.start : t.end] for t in analyse(text)]
    assert spans == ["Objet", "autorisation", "رُخْصَة"]


def test_positions_are_consecutive_after_stop_words_so_phrases_match() -> None:
    assert [t.position for t in analyse("le plan de la ville")] == [0, 1]


def test_names_are_folded_but_not_stemmed() -> None:
    assert normalise_name("Société Générale") == "societe generale"
    assert normalise_name("جماعة الرّباط") == "جماعة الرباط"
