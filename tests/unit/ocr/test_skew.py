from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from ocr.skew import deskew, find_lines, find_skew


def _lines_page() -> Image.Image:
    """Dark bars shaped like text lines on white, at 150 dpi A4."""
    page = Image.new("L", (1240, 1754), 255)
    draw = ImageDraw.Draw(page)
    for row in range(30):
        top = 120 + row * 50
        for word in range(9):
            left = 100 + word * 115
            draw.rectangle((left, top, left + 90, top + 16), fill=0)
    return page


@pytest.mark.parametrize("angle", [-4.0, -1.5, 2.0, 6.5])
def test_skew_is_found_to_a_fifth_of_a_degree(angle: float) -> None:
    skewed = _lines_page().rotate(angle, expand=True, fillcolor=255)
    assert find_skew(skewed) == pytest.approx(-angle, abs=0.2)


def test_a_sideways_page_is_straightened_too() -> None:
    sideways = _lines_page().rotate(90, expand=True).rotate(2.0, expand=True, fillcolor=255)
    assert find_skew(sideways) == pytest.approx(-2.0, abs=0.2)


@pytest.mark.parametrize("turn", [90, 270])
def test_a_page_whose_lines_run_up_and_down_is_found_sideways(turn: int) -> None:
    lines = find_lines(
        _lines_page().rotate(turn, expand=True).rotate(-1.5, expand=True, fillcolor=255)
    )
    assert lines.sideways
    assert lines.angle == pytest.approx(1.5, abs=0.2)


@pytest.mark.parametrize("turn", [0, 180])
def test_an_upright_or_upside_down_page_is_not_sideways(turn: int) -> None:
    # Which way up is Tesseract's to tell (ocr.pages): the profiles cannot.
    assert not find_lines(_lines_page().rotate(turn)).sideways


def test_a_blank_page_is_not_sideways() -> None:
    assert not find_lines(Image.new("L", (800, 1100), 255)).sideways


def test_a_straight_or_blank_page_is_left_alone() -> None:
    assert find_skew(_lines_page()) == 0.0
    assert find_skew(Image.new("L", (800, 1100), 255)) == 0.0


def test_small_slants_are_left_to_tesseract() -> None:
    assert find_skew(_lines_page().rotate(0.5, expand=True, fillcolor=255)) == 0.0


def test_deskew_grows_the_page_with_white() -> None:
    page = _lines_page()
    turned = deskew(page, 3.0)
    assert turned.width > page.width
    assert turned.getpixel((0, 0)) == 255
    assert deskew(page, 0.0) is page
