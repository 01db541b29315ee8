"""Printed sheets for the scanner: a mail's cover sheet, the batch separator, and splitting scans.

A cover sheet carries a QR code of its mail's chrono (``ocr.sheets`` reads it back) and the
chrono, subject and date in plain letters, so that a person can tell sheets apart too. A
separator carries the fixed separator code. Both are drawn large (6 cm) so that a 100 DPI
rendering of a skewed, grey scan still reads them. A cover sheet is written in the language of
the person who prints it (``CoverLabel.locale``), right-aligned and shaped in Arabic.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import segno
from PIL import Image, TiffImagePlugin
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas

from ged.adapters.catalogues import default_catalogues
from ged.adapters.pdf_fonts import (
    FONT,
    FONT_BOLD,
    arabic_fonts_available,
    display_lines,
    require_arabic_fonts,
)
from ged.domain.model import Locale
from ocr.sheets import SEPARATOR, cover_payload

QR_SIZE = 6 * cm


@dataclass(frozen=True)
class CoverLabel:
    chrono: str
    subject: str
    mail_date: dt.date
    correspondent: str = ""
    locale: str = Locale.FR.value  # of the person who prints it


def _font() -> tuple[str, str]:
    """DejaVu Sans when installed (Arabic letters), else Helvetica (Latin only)."""
    if arabic_fonts_available():
        return FONT, FONT_BOLD
    return "Helvetica", "Helvetica-Bold"


def _draw_qr(pdf: canvas.Canvas, payload: str, x: float, y: float) -> None:
    # Error correction H: a staple hole or a pen mark on the code still reads.
    qr = segno.make_qr(payload, error="h", boost_error=False)
    cells = qr.matrix
    border = 2
    count = len(cells) + 2 * border
    cell = QR_SIZE / count
    pdf.setFillColorRGB(0, 0, 0)
    for row, line in enumerate(cells):
        for col, dark in enumerate(line):
            if dark:
                pdf.rect(
                    x + (col + border) * cell,
                    y + QR_SIZE - (row + border + 1) * cell,
                    cell,
                    cell,
                    stroke=0,
                    fill=1,
                )


def cover_sheet_pdf(label: CoverLabel) -> bytes:
    """One A4 page: the chrono's QR code and its label; put on top of the mail's pages."""
    language = default_catalogues().language(label.locale)
    if language.is_rtl:
        require_arabic_fonts()
    regular, bold = _font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(language.gettext("Feuille de couverture %(chrono)s", chrono=label.chrono))
    width, height = A4
    margin = 3 * cm

    def centred(text: str, font: str, size: float, y: float) -> None:
        pdf.setFont(font, size)
        for line in display_lines(text, font, size, width - 2 * margin)[:1]:
            pdf.drawCentredString(width / 2, y, line)

    centred(language.gettext("FEUILLE DE COUVERTURE"), bold, 22, height - 3 * cm)
    centred(
        language.gettext("À placer sur le courrier avant de le numériser."),
        regular,
        11,
        height - 3.8 * cm,
    )
    _draw_qr(pdf, cover_payload(label.chrono), (width - QR_SIZE) / 2, height - 11 * cm)
    pdf.setFont(bold, 26)
    pdf.drawCentredString(width / 2, height - 13 * cm, label.chrono)
    y = height - 14.5 * cm
    pdf.setFont(regular, 12)
    paragraphs = [(language.gettext("Date : %(day)s", day=language.day(label.mail_date)), 1)]
    if label.correspondent:
        paragraphs.append(
            (language.gettext("Correspondant : %(name)s", name=label.correspondent), 1)
        )
    paragraphs.append((language.gettext("Objet : %(subject)s", subject=label.subject), 6))
    for text, most in paragraphs:
        for line in display_lines(text, regular, 12, width - 2 * margin)[:most]:
            # The page's direction: an Arabic sheet reads from the right margin.
            if language.is_rtl:
                pdf.drawRightString(width - margin, y, line)
            else:
                pdf.drawString(margin, y, line)
            y -= 0.6 * cm
        y -= 0.1 * cm
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def separator_sheet_pdf() -> bytes:
    """One A4 page put between the letters of a batch: each segment becomes its own draft."""
    regular, bold = _font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle("Feuille de séparation")
    width, height = A4
    pdf.setFont(bold, 26)
    pdf.drawCentredString(width / 2, height - 3 * cm, "FEUILLE DE SÉPARATION")
    pdf.setFont(regular, 12)
    pdf.drawCentredString(
        width / 2,
        height - 3.9 * cm,
        "Placez cette feuille entre deux courriers d'un même lot numérisé.",
    )
    _draw_qr(pdf, SEPARATOR, (width - QR_SIZE) / 2, (height - QR_SIZE) / 2)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def split_pdf(source: Path, segments: Sequence[Sequence[int]], folder: Path) -> list[Path]:
    """One PDF per segment (0-based page numbers of ``source``), written in ``folder``.

    Pages are copied as they are (no re-rendering): the scan's own images end up in the parts.
    """
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    with pikepdf.open(source) as pdf:
        for index, pages in enumerate(segments, start=1):
            part = pikepdf.new()
            for number in pages:
                part.pages.append(pdf.pages[number])
            path = folder / f"part-{index:03d}.pdf"
            part.save(path)
            part.close()
            parts.append(path)
    return parts


# Lossless TIFF compressions Pillow writes; a frame stored otherwise (JPEG in TIFF, CCITT G3)
# is written with LZW, bilevel frames with CCITT G4: a part keeps its pixels exactly.
_KEPT_TIFF_COMPRESSIONS = frozenset({"tiff_lzw", "tiff_deflate", "tiff_adobe_deflate", "packbits"})


def _tiff_compression(frame: Image.Image) -> str:
    if frame.mode == "1":
        return "group4"
    found = str(frame.info.get("compression", ""))
    return found if found in _KEPT_TIFF_COMPRESSIONS else "tiff_lzw"


def split_tiff(source: Path, segments: Sequence[Sequence[int]], folder: Path) -> list[Path]:
    """One multi-page TIFF per segment (0-based frames of ``source``), written in ``folder``.

    Frames are written one at a time (never a whole batch in memory), with their pixels,
    resolution and, where Pillow writes it, their compression unchanged.
    """
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    with Image.open(source) as image:
        for index, frames in enumerate(segments, start=1):
            path = folder / f"part-{index:03d}.tif"
            with TiffImagePlugin.AppendingTiffWriter(str(path), new=True) as out:
                for number in frames:
                    image.seek(number)
                    options: dict[str, object] = {"compression": _tiff_compression(image)}
                    if "dpi" in image.info:
                        options["dpi"] = image.info["dpi"]
                    image.save(out, "TIFF", **options)
                    out.newFrame()
            parts.append(path)
    return parts
