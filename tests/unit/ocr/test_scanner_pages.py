"""Which PDF pages are a scanner's page (one JPEG filling it), read without rasterising."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from ocr import pages

# A4 at 300 dpi, as an office scanner writes it.
A4_300 = (2480, 3508)


def _scan(path: Path, mode: str = "L", size: tuple[int, int] = A4_300, dpi: int = 300) -> Path:
    Image.new(mode, size, "white").save(path, "PDF", resolution=dpi, quality=85)
    return path


def _dpi(path: Path, asked: int = 300) -> int:
    with pikepdf.open(path) as pdf:
        return pages.scanned_image_dpi(pdf.pages[0], asked)


def _edited(path: Path, edit: object) -> Path:
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        edit(pdf, pdf.pages[0])  # type: ignore[operator]
        pdf.save(path)
    return path


@pytest.mark.parametrize("mode", ["L", "RGB"])
def test_a_grey_or_colour_scan_at_the_asked_resolution_is_read_as_its_jpeg(
    tmp_path: Path, mode: str
) -> None:
    assert _dpi(_scan(tmp_path / "scan.pdf", mode)) == 300


def test_a_scan_at_another_resolution_is_rasterised_as_before(tmp_path: Path) -> None:
    path = _scan(tmp_path / "scan.pdf", size=(1654, 2339), dpi=200)
    assert _dpi(path, 300) == 0
    assert _dpi(path, 200) == 200


def test_a_cmyk_jpeg_is_rasterised(tmp_path: Path) -> None:
    # Often stored inverted (Adobe): only poppler knows how to show it.
    assert _dpi(_scan(tmp_path / "scan.pdf", "CMYK")) == 0


def test_a_page_turned_by_rotate_is_rasterised(tmp_path: Path) -> None:
    path = _edited(_scan(tmp_path / "scan.pdf"), lambda pdf, page: setattr(page, "Rotate", 90))
    assert _dpi(path) == 0


def test_a_page_with_a_font_is_rasterised(tmp_path: Path) -> None:
    def add_font(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        font = pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
        )
        page.obj.Resources.Font = pikepdf.Dictionary(F1=font)

    path = _edited(_scan(tmp_path / "scan.pdf"), add_font)
    assert _dpi(path) == 0
    specs = pages._inspect_pdf(pages.InspectJob(path, "application/pdf", 300, 10, 10**8))
    assert [spec.fonts for spec in specs] == [True]


@pytest.mark.parametrize(
    "content",
    [
        b"q 297.6 0 0 420.96 0 0 cm /image Do Q",  # a quarter of the page
        b"q 0 841.92 -595.2 0 595.2 0 cm /image Do Q",  # turned by its matrix
        b"q 595.2 0 0 841.92 0 0 cm /image Do Q 0 0 m 100 100 l S",  # and a stroke
        b"q 595.2 0 0 841.92 0 0 cm /image Do /image Do Q",  # drawn twice
    ],
)
def test_an_image_not_simply_filling_the_page_is_rasterised(tmp_path: Path, content: bytes) -> None:
    def replace(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        page.obj.Contents = pdf.make_stream(content)

    assert _dpi(_edited(_scan(tmp_path / "scan.pdf"), replace)) == 0


def test_a_masked_or_flate_image_is_rasterised(tmp_path: Path) -> None:
    def mask(pdf: pikepdf.Pdf, page: pikepdf.Page) -> None:
        image = page.obj.Resources.XObject.image
        image.Decode = pikepdf.Array([1, 0])

    assert _dpi(_edited(_scan(tmp_path / "a.pdf"), mask)) == 0

    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595.2, 841.92))
    image = pdf.make_stream(
        Image.new("L", A4_300, "white").tobytes(),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=A4_300[0],
        Height=A4_300[1],
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
    )
    page = pdf.pages[0]
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(image=image))
    page.obj.Contents = pdf.make_stream(b"q 595.2 0 0 841.92 0 0 cm /image Do Q")
    pdf.save(tmp_path / "b.pdf")
    assert _dpi(tmp_path / "b.pdf") == 0


def test_the_inspection_says_which_pages_are_scans(tmp_path: Path) -> None:
    scan = _scan(tmp_path / "scan.pdf")
    specs = pages._inspect_pdf(pages.InspectJob(scan, "application/pdf", 300, 10, 10**8))
    assert [(spec.fonts, spec.image_dpi) for spec in specs] == [(False, 300)]
