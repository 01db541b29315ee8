"""Tesseract's text-only page lands where the text is on the original page."""

from __future__ import annotations

import pytest

from ocr.pages import Geometry, Matrix, overlay_matrix

LETTER = (0.0, 0.0, 612.0, 792.0)


def _apply(matrix: Matrix, x: float, y: float) -> tuple[float, float]:
    a, b, c, d, e, f = matrix
    return (a * x + c * y + e, b * x + d * y + f)


def _geometry(size: tuple[int, int], skew: float = 0.0, turned: int = 0) -> Geometry:
    read = size if turned in (0, 180) else (size[1], size[0])
    return Geometry(size, skew, size, turned, read, 300)


def test_an_upright_page_maps_one_to_one() -> None:
    matrix = overlay_matrix(LETTER, 0, _geometry((2550, 3300)))
    assert _apply(matrix, 0, 0) == pytest.approx((0, 0))
    assert _apply(matrix, 612, 792) == pytest.approx((612, 792))


def test_a_mediabox_offset_is_followed() -> None:
    matrix = overlay_matrix((100.0, 50.0, 712.0, 842.0), 0, _geometry((2550, 3300)))
    assert _apply(matrix, 0, 0) == pytest.approx((100, 50))


def test_a_page_shown_turned_by_rotate_gets_its_text_unturned() -> None:
    # /Rotate 90: the raster is landscape; its lower-left corner is the page's lower-right.
    matrix = overlay_matrix(LETTER, 90, _geometry((3300, 2550)))
    assert _apply(matrix, 0, 0) == pytest.approx((612, 0))
    assert _apply(matrix, 792, 612) == pytest.approx((0, 792))


def test_a_page_read_upside_down_maps_back() -> None:
    matrix = overlay_matrix(LETTER, 0, _geometry((2550, 3300), turned=180))
    assert _apply(matrix, 0, 0) == pytest.approx((612, 792))


def test_deskew_turns_about_the_centre() -> None:
    geometry = Geometry((2550, 3300), 2.0, (2665, 3386), 0, (2665, 3386), 300)
    matrix = overlay_matrix(LETTER, 0, geometry)
    centre = (2665 * 72 / 300 / 2, 3386 * 72 / 300 / 2)
    assert _apply(matrix, *centre) == pytest.approx((306, 396), abs=0.01)
