"""Cover and separator sheets: which pages of a scan carry one of ged's QR codes.

A cover sheet's QR holds ``GED-COURRIER:<chrono>``, a separator's ``GED-SEPARATEUR``. Any other
QR (a letter may well print one) is ignored. Pages are rendered one at a time at a modest
resolution: a sheet's code is several centimetres wide, so 100 DPI reads it and a 300-page batch
never sits in memory at once.
"""

from __future__ import annotations

import io
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import zxingcpp
from pdf2image import pdfinfo_from_path
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError
from PIL import Image

from ocr.detect import PDF, detect_media_type
from ocr.errors import OcrError

COVER_PREFIX = "GED-COURRIER:"
SEPARATOR = "GED-SEPARATEUR"
MAX_CHRONO = 40
_QR = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)


@dataclass(frozen=True)
class Sheet:
    """A ged sheet found on a page: a cover (with the chrono it names) or a separator."""

    kind: Literal["cover", "separator"]
    chrono: str = ""


def cover_payload(chrono: str) -> str:
    return COVER_PREFIX + chrono


def sheet_in(image: Image.Image) -> Sheet | None:
    """The ged sheet this page image is, if any (the first ged QR code found on it)."""
    for barcode in zxingcpp.read_barcodes(image.convert("L"), formats=_QR):
        text = barcode.text.strip()
        if text == SEPARATOR:
            return Sheet("separator")
        if text.startswith(COVER_PREFIX):
            chrono = text[len(COVER_PREFIX) :].strip()
            if chrono and len(chrono) <= MAX_CHRONO and chrono.isprintable():
                return Sheet("cover", chrono)
    return None


def page_count(path: Path) -> int:
    """Pages of a PDF, or frames of an image file."""
    if detect_media_type(path) == PDF:
        try:
            return int(pdfinfo_from_path(str(path))["Pages"])
        except (PDFPageCountError, PDFSyntaxError, KeyError, ValueError):
            raise OcrError("malformed", "Ce PDF est illisible ou endommagé.") from None
        except PDFInfoNotInstalledError:  # pragma: no cover - a broken installation
            raise OcrError("malformed", "Poppler (pdfinfo) n'est pas installé.") from None
    try:
        with Image.open(path) as image:
            return int(getattr(image, "n_frames", 1))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise OcrError("too-many-pixels", "Cette image est trop grande pour être lue.") from None
    except (OSError, SyntaxError, ValueError):
        raise OcrError("malformed", "Cette image est illisible ou endommagée.") from None


def find_sheets(
    path: Path, dpi: int = 100, max_pages: int = 500, page_time_limit_s: float = 60.0
) -> list[Sheet | None]:
    """For each page of the file, the sheet it is, or None for an ordinary page.

    pdftoppm renders each page in a child process killed after ``page_time_limit_s``: a page
    built to hang the renderer fails the file instead of the watcher.
    """
    count = page_count(path)
    if count > max_pages:
        raise OcrError(
            "too-many-pages", f"Ce fichier a {count} pages ; {max_pages} au plus sont acceptées."
        )
    if detect_media_type(path) != PDF:
        return [_image_sheet(path, frame) for frame in range(count)]
    found: list[Sheet | None] = []
    for number in range(1, count + 1):
        with _render(path, number, dpi, page_time_limit_s) as image:
            found.append(sheet_in(image))
    return found


def _render(path: Path, number: int, dpi: int, time_limit_s: float) -> Image.Image:
    """One page in grey at `dpi`, from pdftoppm itself (pdf2image would start `pdfinfo` and
    `pdftoppm -v` before each page)."""
    number_arg = str(number)
    try:
        completed = subprocess.run(  # noqa: S603 (fixed program, our own arguments)
            [
                *("pdftoppm", "-f", number_arg, "-l", number_arg, "-r", str(dpi)),
                *("-gray", "-singlefile", str(path)),
            ],
            capture_output=True,
            check=False,
            timeout=max(1.0, time_limit_s),
        )
    except subprocess.TimeoutExpired:
        raise OcrError(
            "timeout", f"La page {number} met trop de temps à s'afficher.", number
        ) from None
    try:
        if completed.returncode != 0:
            raise OSError(completed.returncode)
        return Image.open(io.BytesIO(completed.stdout))
    except (OSError, SyntaxError, ValueError):
        raise OcrError("malformed", "Ce PDF est illisible ou endommagé.", number) from None


def _image_sheet(path: Path, frame: int) -> Sheet | None:
    try:
        with Image.open(path) as image:
            image.seek(frame)
            return sheet_in(image)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise OcrError("too-many-pixels", "Cette image est trop grande pour être lue.") from None
    except (OSError, SyntaxError, ValueError):
        raise OcrError("malformed", "Cette image est illisible ou endommagée.", frame + 1) from None
