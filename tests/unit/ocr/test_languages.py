"""Which languages a page is read again with once its first reading shows its script."""

from __future__ import annotations

import pytest

from ocr.hocr import CONFIDENT_WORD, summarise
from ocr.pages import ARABIC_SHARE, arabic_languages

WORD = (
    "<span class='ocrx_word' id='word_1_{n}' title='bbox 10 10 50 40; x_wconf {conf}'>{text}</span>"
)


def _hocr(words: list[tuple[str, int]]) -> str:
    spans = "".join(WORD.format(n=n, conf=conf, text=text) for n, (text, conf) in enumerate(words))
    line = "<span class='ocr_line' id='line_1_1' title=\"bbox 10 10 200 40; x_size 30\">"
    return f"<div class='ocr_page'>{line}{spans}</span></div>"


ARABIC_LINE = [("الرباط", 91), ("في", 93), ("12", 95), ("مارس", 90), ("2026", 96)]
FRENCH_LINE = [("Rabat,", 94), ("le", 96), ("12", 95), ("mars", 93), ("2026", 96)]


def test_the_share_counts_the_letters_of_confident_words() -> None:
    assert summarise(_hocr(ARABIC_LINE)).arabic_share == 1.0
    assert summarise(_hocr(FRENCH_LINE)).arabic_share == 0.0
    assert summarise(_hocr([("2026", 96)])).arabic_share == 0.0
    mixed = summarise(_hocr([("سلام", 90), ("tout", 90)]))
    assert mixed.arabic_share == pytest.approx(0.5)


def test_latin_words_guessed_inside_arabic_lines_do_not_count() -> None:
    # What Tesseract writes for a generated Arabic letter read with fra+ara: Latin groups, unsure.
    guessed = [("ALUesu", CONFIDENT_WORD - 6), ("Lse", 33), ("Oaelsu", 57)]
    summary = summarise(_hocr(ARABIC_LINE * 3 + guessed))
    assert summary.arabic_share == 1.0
    assert arabic_languages("fra+ara", summary.arabic_share) == "ara"


def test_an_arabic_page_is_read_again_with_arabic_alone() -> None:
    share = summarise(_hocr(ARABIC_LINE)).arabic_share
    assert arabic_languages("fra+ara", share) == "ara"
    assert arabic_languages("ara+fra", share) == "ara"
    assert arabic_languages("fra+ara+eng", share) == "ara"


def test_a_french_page_keeps_its_languages() -> None:
    assert arabic_languages("fra+ara", summarise(_hocr(FRENCH_LINE)).arabic_share) == ""
    # A French letter under an Arabic letterhead, as many here are.
    headed = summarise(_hocr(ARABIC_LINE + FRENCH_LINE * 8))
    assert arabic_languages("fra+ara", headed.arabic_share) == ""


def test_an_arabic_page_quoting_french_keeps_the_whole_set() -> None:
    # A reference read with confidence in an Arabic letter: with Arabic alone it would be lost.
    quoted = summarise(_hocr(ARABIC_LINE * 12 + [("Réf.", 91), ("DAG/2026/0417", 92)]))
    assert 0.9 < quoted.arabic_share < ARABIC_SHARE
    assert arabic_languages("fra+ara", quoted.arabic_share) == ""


@pytest.mark.parametrize("languages", ["ara", "fra", "fra+eng", "fas+ara"])
def test_a_set_without_a_choice_to_make_is_left_alone(languages: str) -> None:
    assert arabic_languages(languages, 1.0) == ""
