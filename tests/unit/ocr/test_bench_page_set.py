"""The benchmark's generated letters and how it compares readings page by page."""

from __future__ import annotations

import pytest
from PIL import ImageChops, ImageFont

from bench.ocr import letters, run


@pytest.mark.parametrize(("language", "texts"), [("fra", letters.FRENCH), ("ara", letters.ARABIC)])
def test_every_line_of_every_letter_fits_between_the_margins(
    language: str, texts: tuple[tuple[str, ...], ...]
) -> None:
    arabic = language == "ara"
    if arabic and not letters.can_render_arabic():
        pytest.skip("Pillow without libraqm cannot lay out Arabic")
    font = ImageFont.truetype(str(letters.font_path(arabic)), letters.FONT_PX)
    room = letters.A4[0] - 2 * letters.MARGIN
    for lines in texts:
        assert letters.MARGIN + len(lines) * letters.LINE_PX < letters.A4[1] - letters.MARGIN
        for line in lines:
            options = {"direction": "rtl", "language": "ar"} if arabic else {}
            assert font.getlength(line, **options) <= room, line


def test_the_bigger_page_set_keeps_the_first_letters_as_they_were() -> None:
    if not letters.can_render_arabic():
        pytest.skip("Pillow without libraqm cannot lay out Arabic")
    found = letters.letters(run.LETTERS_PER_LANGUAGE, run.ARABIC_LETTERS)
    assert [letter.language for letter in found] == ["fra"] * 8 + ["ara"] * 16
    assert len({letter.text for letter in found}) == len(letters.FRENCH) + len(letters.ARABIC)
    # The two letters per language the benchmark had before, drawn as they were drawn then.
    for index, (language, texts) in enumerate((("fra", letters.FRENCH), ("ara", letters.ARABIC))):
        for number in range(2):
            before = letters.render(texts[number], language, seed=number, skew=0.6 + 0.4 * number)
            now = found[index * 8 + number]
            assert now.text == before.text
            assert ImageChops.difference(now.image, before.image).getbbox() is None


def test_pages_are_compared_one_by_one_per_language() -> None:
    labels: list[tuple[str, str | None]] = [
        ("linn.pdf", "abcd"),
        ("epson.pdf", None),
        ("letter-fra-0", "abcd"),
        ("letter-ara-8", "abcd"),
        ("letter-ara-9", "abcd"),
    ]
    ours = run.readings(labels, ["abcd", "", "abcd", "abxd", "abcd"])
    theirs = run.readings(labels, ["abcd", "", "abxd", "abcd", "abxx"])
    assert ours["cer_pages"] == {
        "linn.pdf": 0.0,
        "letter-fra-0": 0.0,
        "letter-ara-8": 0.25,
        "letter-ara-9": 0.0,
    }
    assert ours["cer"] == {"eng (linn)": 0.0, "fra": 0.0, "ara": 0.125}
    assert theirs["cer"]["ara"] == 0.25
    report = {"ours": ours, "tesseract": theirs}
    assert run.compare_pages(report, "tesseract") == {
        "eng (linn)": {"better": 0, "same": 1, "worse": 0},
        "fra": {"better": 1, "same": 0, "worse": 0},
        "ara": {"better": 1, "same": 0, "worse": 1},
    }
