"""Real scans and awkward PDFs from OCRmyPDF's test suite (shared/corpus/ocrmypdf)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from ocr import OcrError, OcrSettings, character_error_rate, pages, process
from tests.integration.ocr import builders
from tests.integration.ocr.conftest import Reader, sha256

# linn.pdf read with the default fra+ara against linn.txt: 1.05 % measured (Tesseract 5.3, fast
# models, November 2026); the bound leaves room for model and platform noise, not for a regression.
LINN_CER_BOUND = 0.015
# A skewed or turned copy may lose at most half a point against the straight page.
COPY_MARGIN = 0.005

ACCENTED = (
    "île",
    "intérieure",
    "côté",
    "alcôve",
    "bûches",
    "l'âtre",
    "être",
    "ambiguë",
    "capharnaüm",
    "çà",
    "là",
    "qualité",
    "œuvre",
)


WORD_BOX = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]+)</word>'
)


def _pdftotext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def _linn_cer(corpus: Path, text: str) -> float:
    return character_error_rate((corpus / "linn.txt").read_text(encoding="utf-8"), text)


@pytest.mark.tesseract
def test_accented_words_of_francais_are_found(corpus: Path, read: Reader) -> None:
    result = read(corpus / "francais.pdf")
    assert result.media_type == "application/pdf"
    assert result.pages[0].source == "ocr"
    text = result.text.replace("’", "'")
    missing = [word for word in ACCENTED if word not in text]
    assert not missing, text


@pytest.mark.tesseract
def test_searchable_pdf_carries_the_text_and_leaves_the_original_alone(
    corpus: Path, read: Reader
) -> None:
    before = sha256(corpus / "francais.pdf")
    result = read(corpus / "francais.pdf")
    assert sha256(corpus / "francais.pdf") == before
    assert result.searchable_pdf.parent == result.thumbnail.parent
    assert builders.page_count(result.searchable_pdf) == 1
    layer = _pdftotext(result.searchable_pdf)
    assert "intérieure" in layer
    assert "capharnaüm" in layer
    # The original's page image is kept, not re-encoded: the derived file is barely larger.
    assert result.searchable_pdf.stat().st_size < (corpus / "francais.pdf").stat().st_size + 60_000


@pytest.mark.tesseract
def test_thumbnail_is_a_small_jpeg_of_the_first_page(corpus: Path, read: Reader) -> None:
    result = read(corpus / "francais.pdf")
    with Image.open(result.thumbnail) as thumbnail:
        assert thumbnail.format == "JPEG"
        assert max(thumbnail.size) <= OcrSettings().thumbnail_px


@pytest.mark.tesseract
def test_linn_reads_within_the_measured_error_rate(corpus: Path, read: Reader) -> None:
    result = read(corpus / "linn.pdf")
    page = result.pages[0]
    assert (page.source, page.rotation, page.language) == ("ocr", 0, "fra+ara")
    assert page.confidence > 80
    assert _linn_cer(corpus, result.text) <= LINN_CER_BOUND


@pytest.mark.tesseract
def test_a_ccitt_g4_scan_is_read_from_its_own_image(
    corpus: Path, read: Reader, tmp_path: Path
) -> None:
    # ccitt.pdf is linn's page as a black-and-white scanner writes it: one CCITT G4 image.
    path = corpus / "ccitt.pdf"
    [spec] = pages.inspect(pages.InspectJob(path, "application/pdf", 300, 10, 90_000_000))
    assert spec.image_dpi == 300
    job = pages.PageJob(path, "application/pdf", 1, 300, "fra", tmp_path, 0, False, 300)
    raster = pages._pdf_raster(job)
    assert raster.file is not None
    assert raster.encoded
    with Image.open(raster.file) as handed:
        assert (handed.format, handed.info["compression"], handed.size) == (
            "TIFF",
            "group4",
            (2550, 3300),
        )
    result = read(path)
    assert _linn_cer(corpus, result.text) <= LINN_CER_BOUND
    # The searchable PDF carries it (pdftotext orders the two columns otherwise: words compared).
    words = set(result.text.split())
    assert len(words & set(_pdftotext(result.searchable_pdf).split())) >= 0.95 * len(words)


@pytest.mark.tesseract
@pytest.mark.parametrize("name", ["skew.pdf", "rotated_skew.pdf"])
def test_skewed_copies_read_as_well_as_the_straight_page(
    corpus: Path, read: Reader, name: str
) -> None:
    straight = _linn_cer(corpus, read(corpus / "linn.pdf").text)
    result = read(corpus / name)
    assert abs(result.pages[0].skew) >= 1.0
    assert _linn_cer(corpus, result.text) <= straight + COPY_MARGIN


def _word_boxes(pdf: Path) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Words of the text layer with their boxes, in points on the page as shown (y down)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        (word, (float(x0), float(y0), float(x1), float(y1)))
        for x0, y0, x1, y1, word in WORD_BOX.findall(out)
    ]


def _mean_grey(shown: Image.Image, box: tuple[float, float, float, float]) -> float:
    """Mean grey (0 black, 255 white) of the page as shown at 72 dpi, inside a box in points."""
    histogram = shown.crop(tuple(round(value) for value in box)).histogram()
    return sum(level * count for level, count in enumerate(histogram)) / max(1, sum(histogram))


@pytest.mark.tesseract
def test_the_text_layer_of_a_turned_skewed_page_lands_on_its_words(
    corpus: Path, read: Reader, tmp_path: Path
) -> None:
    # rotated_skew.pdf is shown through /Rotate 90 and is skewed: the overlay must undo both.
    result = read(corpus / "rotated_skew.pdf")
    assert builders.page_rotation(result.searchable_pdf) == 90
    shown_base = tmp_path / "shown"
    command = ["pdftoppm", "-r", "72", "-gray", "-singlefile", str(result.searchable_pdf)]
    subprocess.run([*command, str(shown_base)], check=True)
    words = [(word, box) for word, box in _word_boxes(result.searchable_pdf) if len(word) >= 4]
    assert len(words) > 300
    with Image.open(tmp_path / "shown.pgm") as shown:
        assert shown.size == (612, 792)  # upright, as the original is shown
        inked = [word for word, box in words if _mean_grey(shown, box) < 225]
    # Nearly every word's box covers printed ink, not margin or the gap between lines.
    assert len(inked) >= 0.95 * len(words)
    # The title is at the top of the page as shown, the address at the bottom.
    assert min(box[1] for _, box in words) < 60
    assert max(box[3] for _, box in words) > 740


@pytest.mark.tesseract
def test_a_page_turned_sideways_by_hand_is_found_turned_and_read(
    corpus: Path, read: Reader, tmp_path_factory: pytest.TempPathFactory
) -> None:
    folder = tmp_path_factory.mktemp("turned")
    with Image.open(corpus / "linn.png") as original:
        original.rotate(90, expand=True).save(folder / "linn.png", dpi=(300, 300))
    straight = _linn_cer(corpus, read(corpus / "linn.pdf").text)
    result = read(folder / "linn.png")
    page = result.pages[0]
    assert result.media_type == "image/png"
    assert page.rotation == 90  # turned counter-clockwise: a clockwise turn sets it upright
    assert _linn_cer(corpus, result.text) <= straight + COPY_MARGIN
    with Image.open(result.thumbnail) as thumbnail:
        assert thumbnail.height > thumbnail.width  # shown upright
    # Tesseract's page already holds the image turned upright.
    assert builders.page_rotation(result.searchable_pdf) == 0


@pytest.mark.tesseract
def test_empty_pages_give_empty_text_without_failing(corpus: Path, read: Reader) -> None:
    result = read(corpus / "trivial.pdf")
    assert result.page_count == 1
    assert result.pages[0].text.strip() == ""
    assert result.pages[0].confidence == 0.0


@pytest.mark.tesseract
def test_a_text_layer_is_read_without_ocr(tmp_path: Path, read: Reader) -> None:
    path = builders.text_pdf(tmp_path / "convocation.pdf")
    result = read(path)
    page = result.pages[0]
    assert (page.source, page.confidence, page.language, result.ocr_pages) == (
        "text-layer",
        100.0,
        "",
        0,
    )
    assert page.text.splitlines() == list(builders.FRENCH_LINES)
    assert "délibérations" in _pdftotext(result.searchable_pdf)


def test_invalid_pdf_is_refused_and_we_carry_on(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(OcrError) as refused:
        process(corpus / "invalid.pdf", OcrSettings(), tmp_path / "invalid")
    assert refused.value.code == "malformed"
    assert "endommagé" in refused.value.reason
    # The caller is still here and still works.
    with pytest.raises(OcrError) as again:
        process(corpus / "invalid.pdf", OcrSettings(), tmp_path / "again")
    assert again.value.code == "malformed"


def test_hugemono_bomb_is_refused_before_it_is_decoded(corpus: Path, tmp_path: Path) -> None:
    with pytest.raises(OcrError) as refused:
        process(corpus / "hugemono.pdf", OcrSettings(), tmp_path / "hugemono")
    assert refused.value.code == "too-many-pixels"
    assert refused.value.page == 1
    assert "1225 millions de pixels" in refused.value.reason
