from __future__ import annotations

from ocr.textlayer import assess_text_layer, clean_text_layer

FRENCH = (
    "Objet : demande de renseignements sur l'aménagement de la route régionale.\n"
    "Monsieur le Directeur, j'ai l'honneur de vous prier de bien vouloir me communiquer "
    "l'état d'avancement des travaux.\n"
)


def test_a_french_text_layer_is_trusted() -> None:
    assert assess_text_layer(FRENCH).trusted


def test_an_arabic_text_layer_is_never_trusted() -> None:
    verdict = assess_text_layer(FRENCH + "المملكة المغربية")
    assert not verdict.trusted
    assert verdict.why == "arabic"


def test_bidi_marks_alone_are_enough_to_distrust_a_layer() -> None:
    assert not assess_text_layer(FRENCH + "\u200f2026\u200e").trusted


def test_a_stamp_on_a_scanned_page_is_not_taken_for_its_text() -> None:
    verdict = assess_text_layer("Reçu le 12/03/2026 - page 1")
    assert not verdict.trusted
    assert verdict.why == "too-short"


def test_glyph_soup_from_a_font_without_unicode_map_is_distrusted() -> None:
    soup = "#$%& ¤¤ ÿþ \ue000\ue001\ue002 " * 5 + "Qzxw Rtkp Lmnb Vcxz Hjkl Wrtp " * 4
    assert not assess_text_layer(soup).trusted


def test_consonant_soup_is_distrusted() -> None:
    assert not assess_text_layer("Qzxw Rtkp Lmnb Vcxz Hjkl Wrtp Bcdf Ghjk " * 4).trusted


def test_cleaning_drops_form_feeds_and_blank_runs() -> None:
    assert clean_text_layer("Ligne 1  \n\n\n\nLigne 2\f") == "Ligne 1\n\nLigne 2"
