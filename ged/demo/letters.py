"""Letters for the demo: PDFs with a text layer, and scans of them as an office scanner makes.

ReportLab draws glyphs in the order it is given and knows nothing of Arabic: Arabic lines are
shaped (arabic-reshaper), wrapped in logical order, then reordered for display (python-bidi),
and drawn right-aligned in DejaVu Sans (Debian ``fonts-dejavu-core``), which has the Arabic
presentation forms. A scan is the letter's page rasterised (pdf2image), turned by a fraction of
a degree, on grey paper with dust specks: the background worker then reads it with Tesseract.
Everything is deterministic for a given seed.
"""

from __future__ import annotations

import io
import random
import re
from dataclasses import dataclass

import arabic_reshaper  # type: ignore[import-untyped]
from bidi import get_display  # type: ignore[import-untyped]
from pdf2image import convert_from_bytes
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfgen import canvas

from ged.adapters.pdf_fonts import FONT, FONT_BOLD, require_arabic_fonts

# French letters use PDF's built-in Helvetica: nothing to embed, several times faster to write,
# and every character of French is in its encoding. Arabic needs DejaVu's glyphs.
LATIN = "Helvetica"
LATIN_BOLD = "Helvetica-Bold"
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
SCAN_DPI = 200
PAPER = 238


@dataclass(frozen=True)
class Letter:
    """What a letter says, top to bottom; its text is exactly what a reader finds in it."""

    letterhead: tuple[str, ...]
    place_date: str
    recipient: tuple[str, ...]
    subject: str
    reference: str
    body: tuple[str, ...]  # paragraphs
    signature: tuple[str, ...]

    @property
    def arabic(self) -> bool:
        return bool(_ARABIC.search(self.subject + "".join(self.body)))

    @property
    def text(self) -> str:
        parts = [
            *self.letterhead,
            self.place_date,
            *self.recipient,
            self.reference,
            self.subject,
            *self.body,
            *self.signature,
        ]
        return "\n".join(part for part in parts if part)


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` wrapped to ``width`` points, each line in display order."""
    if not _ARABIC.search(text):
        return simpleSplit(text, font, size, width) or [""]
    shaped = arabic_reshaper.reshape(text)
    return [get_display(line, base_dir="R") for line in simpleSplit(shaped, font, size, width)]


def render_pdf(letter: Letter, title: str = "") -> bytes:
    """One A4 page (two if the body is long), with a real text layer."""
    require_arabic_fonts()
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pagesize=A4, invariant=True, pageCompression=1)
    page.setTitle(title or letter.subject)
    page.setAuthor(letter.letterhead[0] if letter.letterhead else "")
    width, height = A4
    left, right = 2.3 * cm, width - 2.3 * cm
    usable = right - left
    rtl = letter.arabic
    regular, bold = (FONT, FONT_BOLD) if rtl else (LATIN, LATIN_BOLD)
    y = height - 2.2 * cm

    def line(text: str, bold_font: bool = False, size: float = 11, gap: float = 15.5) -> None:
        nonlocal y
        font = bold if bold_font else regular
        for shown in _wrap(text, font, size, usable):
            if y < 2.5 * cm:
                page.showPage()
                y = height - 2.5 * cm
            page.setFont(font, size)
            if rtl:
                page.drawRightString(right, y, shown)
            else:
                page.drawString(left, y, shown)
            y -= gap

    for number, head in enumerate(letter.letterhead):
        line(head, number == 0, 12 if number == 0 else 10, 14)
    y -= 10
    page.setLineWidth(0.6)
    page.line(left, y + 8, right, y + 8)
    y -= 8
    page.setFont(regular, 11)
    date_line = _wrap(letter.place_date, regular, 11, usable)[0]
    if rtl:
        page.drawString(left, y, date_line)
    else:
        page.drawRightString(right, y, date_line)
    y -= 28
    for recipient in letter.recipient:
        line(recipient, False, 11, 15)
    y -= 14
    if letter.reference:
        line(letter.reference, False, 10, 15)
    line(letter.subject, True, 11, 16)
    y -= 12
    for paragraph in letter.body:
        line(paragraph)
        y -= 8
    y -= 16
    for signature in letter.signature:
        line(signature, True, 11, 15)
    page.showPage()
    page.save()
    return buffer.getvalue()


def scan(pdf: bytes, seed: int, dpi: int = SCAN_DPI) -> Image.Image:
    """The first page of ``pdf`` as a greyscale office scan: grey paper, slight turn, specks."""
    rng = random.Random(seed)  # noqa: S311 (the look of a demo scan)
    [page] = convert_from_bytes(pdf, dpi=dpi, grayscale=True, first_page=1, last_page=1)
    # Paper is never white and toner never quite black.
    page = page.point(lambda v: 28 + v * (PAPER - 28) // 255)
    angle = rng.uniform(0.3, 1.1) * rng.choice((-1, 1))
    # Bilinear: a third of bicubic's time, and the softening a scanner's optics give anyway.
    page = page.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=PAPER)
    draw = ImageDraw.Draw(page)
    width, height = page.size
    for _ in range(rng.randint(300, 700)):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.choice((0, 0, 1, 1, 2))
        draw.ellipse((x, y, x + radius, y + radius), fill=rng.randint(60, 170))
    return page


def save_png(image: Image.Image, dpi: int = SCAN_DPI) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()


def save_tiff(image: Image.Image, dpi: int = SCAN_DPI) -> bytes:
    out = io.BytesIO()
    image.save(out, format="TIFF", dpi=(dpi, dpi), compression="tiff_lzw")
    return out.getvalue()


def save_pdf(image: Image.Image, dpi: int = SCAN_DPI) -> bytes:
    """An image-only PDF (JPEG inside), as a scanner writes one: no text layer at all."""
    out = io.BytesIO()
    image.save(out, format="PDF", resolution=float(dpi), quality=88)
    return out.getvalue()
