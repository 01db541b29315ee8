"""Which languages a page is read again with once its first reading shows its script."""

from __future__ import annotations

import pytest

from ocr.hocr import CONFIDENT_WORD, HocrSummary, summarise
from ocr.pages import ARABIC_SHARE, script_languages

WORD = (
    "<span class='ocrx_word' id='word_1_{n}' title='bbox 10 10 50 40; x_wconf {conf}'>{text}</span>"
)


def _hocr(words: list[tuple[str, int]], paragraph: str = "") -> str:
    spans = "".join(WORD.format(n=n, conf=conf, text=text) for n, (text, conf) in enumerate(words))
    line = "<span class='ocr_line' id='line_1_1' title=\"bbox 10 10 200 40; x_size 30\">"
    language = f" lang='{paragraph}'" if paragraph else ""
    par = f"<p class='ocr_par' id='par_1_1'{language} title=\"bbox 10 10 200 40\">"
    return f"<div class='ocr_page'>{par}{line}{spans}</span></p></div>"


def arabic_languages(languages: str, arabic_share: float) -> str:
    return script_languages(languages, HocrSummary(1, 90.0, 0, arabic_share))


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


# How Tesseract writes a French line whose "du Saïss." Arabic's model won (a French paragraph,
# the two words marked as Arabic's): digits, no Arabic letter.
MISREAD = (
    "<span class='ocrx_word' id='word_1_9' title='bbox 10 10 50 40; x_wconf 78' lang='ara'>011"
    "</span><span class='ocrx_word' id='word_1_10' title='bbox 60 10 90 40; x_wconf 72' "
    "lang='ara'>5.</span>"
)


def test_words_written_by_arabics_model_without_arabic_letters_are_counted() -> None:
    french = _hocr(FRENCH_LINE, paragraph="fra")
    assert summarise(french).unlettered_arabic == ()
    misread = summarise(french.replace("</span></p>", MISREAD + "</span></p>"))
    assert misread.unlettered_arabic == ((10, 10, 50, 40), (60, 10, 90, 40))
    assert misread.arabic_share == 0.0
    # Digits in an Arabic paragraph, or a paragraph of digits alone, are no misreading.
    assert summarise(_hocr(ARABIC_LINE, paragraph="ara")).unlettered_arabic == ()
    assert summarise(_hocr([("12", 90), ("-", 60)], paragraph="ara")).unlettered_arabic == ()


def test_a_latin_page_misread_by_arabics_model_is_read_again_without_arabic() -> None:
    misread = summarise(_hocr(FRENCH_LINE, "fra").replace("</span></p>", MISREAD + "</span></p>"))
    assert script_languages("fra+ara", misread) == "fra"
    assert script_languages("fra+eng+ara", misread) == "fra+eng"
    clean = summarise(_hocr(FRENCH_LINE, paragraph="fra"))
    assert script_languages("fra+ara", clean) == ""
    assert script_languages("fra", misread) == ""
    # Whether letters are under those words is for the page's reading to find out.


def test_a_french_page_under_an_arabic_letterhead_keeps_both_even_when_misread() -> None:
    headed = _hocr(ARABIC_LINE + FRENCH_LINE * 8, paragraph="fra")
    summary = summarise(headed.replace("</span></p>", MISREAD + "</span></p>"))
    assert summary.unlettered_arabic
    assert summary.arabic_share > 1 - ARABIC_SHARE
    assert script_languages("fra+ara", summary) == ""
