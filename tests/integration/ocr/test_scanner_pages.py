"""A scanner's page (one JPEG) is read from the JPEG itself: same reading, same placement."""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from bench.ocr import letters
from ocr import character_error_rate, pages
from tests.integration.ocr import builders
from tests.integration.ocr.conftest import Reader

pytestmark = pytest.mark.tesseract

FRENCH_CER_BOUND = 0.01
WORD_BOX = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')


def _image_dpi(path: Path) -> int:
    job = pages.InspectJob(path.resolve(), "application/pdf", 300, 10, 90_000_000)
    [spec] = pages.inspect(job)
    return spec.image_dpi


def _inked_share(pdf: Path, folder: Path) -> float:
    """Share of the text layer's word boxes that cover ink on the page as shown at 72 dpi."""
    command = ["pdftoppm", "-r", "72", "-gray", "-singlefile", str(pdf), str(folder / "shown")]
    subprocess.run(command, check=True)
    layout = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    boxes = [tuple(round(float(v)) for v in found) for found in WORD_BOX.findall(layout)]
    assert len(boxes) > 50
    inked = 0
    with Image.open(folder / "shown.pgm") as shown:
        for box in boxes:
            histogram = shown.crop(box).histogram()
            mean = sum(level * n for level, n in enumerate(histogram)) / max(1, sum(histogram))
            inked += mean < 225
    return inked / len(boxes)


@pytest.mark.parametrize(("skew", "turn"), [(0.5, 0), (2.5, 0), (0.5, 180)])
def test_a_scanned_pdf_page_is_read_from_its_jpeg_and_its_text_lands_on_its_words(
    read: Reader, tmp_path: Path, skew: float, turn: int
) -> None:
    # Straight (read as is), slanted (straightened from the decoded JPEG) and upside down
    # (turned upright from it): every path that starts from the scan's own JPEG.
    letter = letters.render(letters.FRENCH[0], "fra", seed=3, skew=skew)
    path = builders.scanned_pdf(tmp_path / "scan.pdf", letter.image.rotate(turn))
    assert _image_dpi(path) == 300
    result = read(path)
    page = result.pages[0]
    assert page.rotation == turn
    assert (abs(page.skew) >= 1.0) == (skew > 1)
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    assert _inked_share(result.searchable_pdf, tmp_path) >= 0.95
    with Image.open(result.thumbnail) as thumbnail:
        assert max(thumbnail.size) == 400
        assert thumbnail.height > thumbnail.width


def test_a_scan_at_another_resolution_is_rasterised_and_reads_as_well(
    read: Reader, tmp_path: Path
) -> None:
    letter = letters.render(letters.FRENCH[1], "fra", seed=4, skew=0.5)
    small = letter.image.resize((1654, 2339))
    path = builders.scanned_pdf(tmp_path / "scan-200.pdf", small, dpi=200)
    assert _image_dpi(path) == 0
    result = read(path)
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    assert _inked_share(result.searchable_pdf, tmp_path) >= 0.95


def test_a_jpeg_scan_keeps_its_own_image_in_the_searchable_pdf(
    read: Reader, tmp_path: Path
) -> None:
    # Handed to Tesseract as it is, the scan is embedded as it came: in colour, not re-encoded.
    letter = letters.render(letters.FRENCH[0], "fra", seed=5, skew=0.4)
    path = tmp_path / "scan.jpg"
    letter.image.convert("RGB").save(path, "JPEG", quality=85, dpi=(300, 300))
    result = read(path)
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    with pikepdf.open(result.searchable_pdf) as pdf:
        [image] = pdf.pages[0].get_images().values()
        assert image.Filter == pikepdf.Name.DCTDecode
        assert image.ColorSpace == pikepdf.Name.DeviceRGB
        embedded = hashlib.sha256(image.read_raw_bytes()).hexdigest()
    assert embedded == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_jpeg_with_an_exif_turn_is_shown_and_read_upright(read: Reader, tmp_path: Path) -> None:
    letter = letters.render(letters.FRENCH[1], "fra", seed=6, skew=0.4)
    path = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90° clockwise to show": stored turned counter-clockwise
    letter.image.rotate(90, expand=True).save(path, "JPEG", quality=90, exif=exif, dpi=(300, 300))
    result = read(path)
    assert result.pages[0].rotation == 0
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    with Image.open(result.thumbnail) as thumbnail:
        assert thumbnail.height > thumbnail.width


def test_a_scanned_page_whose_jpeg_cannot_be_read_as_it_is_is_rasterised(
    read: Reader, tmp_path: Path
) -> None:
    # An EXIF turn inside the JPEG: a PDF viewer ignores it, so must the reading. The page
    # looks like a scanner's, but its JPEG is not handed over: pdftoppm shows it as viewers do.
    letter = letters.render(letters.FRENCH[0], "fra", seed=7, skew=0.4)
    jpeg = tmp_path / "page.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    letter.image.save(jpeg, "JPEG", quality=85, exif=exif)
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595.2, 841.92))
    image = pdf.make_stream(
        jpeg.read_bytes(),
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=letter.image.width,
        Height=letter.image.height,
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj.Contents = pdf.make_stream(b"q 595.2 0 0 841.92 0 0 cm /Im0 Do Q")
    path = tmp_path / "scan.pdf"
    pdf.save(path)
    assert _image_dpi(path) == 300

    result = read(path)

    assert result.pages[0].rotation == 0
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    assert _inked_share(result.searchable_pdf, tmp_path) >= 0.95


def _lossless_letter(tmp_path: Path) -> tuple[letters.Letter, bytes]:
    """The top of a letter (its text, not the blank below) as a lossless JPEG that Pillow decodes
    to the same pixels and this Tesseract cannot read: the case the fallback is for."""
    letter = letters.render(letters.FRENCH[1], "fra", seed=8, skew=0.3)
    top = letter.image.crop((0, 0, letters.A4[0], 1300))
    jpeg = builders.lossless_jpeg(top)
    probe = tmp_path / "probe.jpg"
    probe.write_bytes(jpeg)
    try:
        with Image.open(probe) as decoded:
            same = decoded.tobytes() == top.tobytes()
    except OSError:
        same = False
    if not same:
        pytest.skip("this Pillow cannot decode a lossless JPEG")
    tried = subprocess.run(["tesseract", str(probe), "-"], capture_output=True, check=False)
    if tried.returncode == 0:
        pytest.skip(
            "this Tesseract reads a lossless JPEG itself: there is nothing to fall back from"
        )
    return letters.Letter("fra", letter.text, top), jpeg


def test_a_jpeg_file_tesseract_cannot_decode_is_read_from_pillows_decoding(
    read: Reader, tmp_path: Path
) -> None:
    letter, jpeg = _lossless_letter(tmp_path)
    path = tmp_path / "scan.jpg"
    path.write_bytes(jpeg)
    result = read(path)
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    assert builders.page_count(result.searchable_pdf) == 1


def test_a_scanned_pdf_page_tesseract_cannot_decode_is_read_from_pillows_decoding(
    read: Reader, tmp_path: Path
) -> None:
    # pdftoppm shows this page blank (so no ink to check the words against, as above): the
    # page is read from the JPEG as Pillow decodes it, and its searchable PDF holds the text.
    letter, jpeg = _lossless_letter(tmp_path)
    path = builders.jpeg_pdf(tmp_path / "scan.pdf", jpeg, letter.image.size)
    assert _image_dpi(path) == 300
    result = read(path)
    assert character_error_rate(letter.text, result.text) <= FRENCH_CER_BOUND
    layer = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(result.searchable_pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # pdftotext may order the lines otherwise: the words are compared, not the text.
    words = set(letter.text.split())
    assert len(words & set(layer.split())) >= 0.95 * len(words)
