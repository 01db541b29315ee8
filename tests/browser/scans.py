"""Scanned letters for the browser journeys: typeset with reportlab, rasterised like a scanner.

The letter is laid out as a PDF (a real letterhead, date, subject, body and signature), then
rendered to a greyscale PNG by poppler (pdf2image) and slightly tilted and softened, as a page
fed through an office scanner comes out. The ``keyword`` is written in the body only: a search
that finds the mail by it has read the scan, not the registration form.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pdf2image import convert_from_bytes
from PIL import Image, ImageFilter, ImageOps
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen.canvas import Canvas

from ged.demo.letters import Letter as ArabicLetter
from ged.demo.letters import render_pdf

# Enough for Tesseract to read body text reliably, small enough to OCR quickly.
SCAN_DPI = 200


@dataclass(frozen=True)
class Letter:
    sender: str
    city: str
    subject: str
    keyword: str
    signatory: str = "Le Président du Conseil communal"


def letter_pdf(letter: Letter) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4)
    width, height = A4
    left = 2.5 * cm
    canvas.setFont("Helvetica-Bold", 15)
    canvas.drawString(left, height - 3 * cm, letter.sender)
    canvas.setFont("Helvetica", 11)
    canvas.drawString(left, height - 3.6 * cm, f"{letter.city}, Royaume du Maroc")
    canvas.drawRightString(width - left, height - 5 * cm, f"{letter.city}, le 3 mars 2026")
    canvas.drawString(width / 2, height - 6.5 * cm, "Monsieur le Directeur")
    canvas.drawString(width / 2, height - 7.1 * cm, "de l'Agence urbaine")
    canvas.setFont("Helvetica-Bold", 12)
    canvas.drawString(left, height - 9 * cm, f"Objet : {letter.subject}")
    canvas.setFont("Helvetica", 12)
    body = [
        "Monsieur le Directeur,",
        "",
        "J'ai l'honneur de solliciter votre avis sur le projet de construction",
        "situé sur la parcelle 112 du lotissement Al Wahda, dont la façade sur rue",
        f"comporte un {letter.keyword} au premier étage, au-dessus du domaine public.",
        "",
        "Vous trouverez ci-joint les plans de masse, les plans de façade et le",
        "certificat de propriété. Je vous prie de bien vouloir me faire connaître",
        "votre position dans les meilleurs délais.",
        "",
        "Veuillez agréer, Monsieur le Directeur, l'expression de ma haute considération.",
    ]
    y = height - 10.5 * cm
    for line in body:
        canvas.drawString(left, y, line)
        y -= 0.65 * cm
    canvas.drawString(width / 2, y - 1.5 * cm, letter.signatory)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def scan(letter: Letter, path: Path) -> Path:
    """The letter as a scanner would hand it over: one greyscale PNG page, a little askew."""
    [page] = _scanned(letter_pdf(letter))
    page.save(path, "PNG", dpi=(SCAN_DPI, SCAN_DPI), optimize=True)
    return path


def scan_pile(printed: Sequence[bytes], path: Path) -> Path:
    """Printed PDFs put on the scanner together, in order: one PDF of scanned page images.

    A cover sheet printed from ged, with the letter behind it, comes out as its scan does.
    """
    pages = [page for pdf in printed for page in _scanned(pdf)]
    pages[0].save(path, "PDF", resolution=float(SCAN_DPI), save_all=True, append_images=pages[1:])
    return path


def _scanned(pdf: bytes) -> list[Image.Image]:
    """Each page of ``pdf`` as it comes out of the scanner: greyscale, a little askew, soft."""
    scanned = []
    for page in convert_from_bytes(pdf, dpi=SCAN_DPI, grayscale=True):
        page = ImageOps.autocontrast(page.convert("L"), cutoff=1)
        page = page.rotate(0.4, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
        scanned.append(page.filter(ImageFilter.GaussianBlur(radius=0.6)))
    return scanned


def arabic_letter_pdf(sender: str, subject: str, keyword: str) -> bytes:
    """A letter written in Arabic (shaped, right to left, as the demo writes them); the
    ``keyword`` is in its body only."""
    return render_pdf(
        ArabicLetter(
            letterhead=(sender, "المملكة المغربية"),
            place_date="الرباط، في 3 مارس 2026",
            recipient=("إلى السيد مدير الوكالة الحضرية",),
            subject=f"الموضوع: {subject}",
            reference="",
            body=(
                "سلام تام بوجود مولانا الإمام،",
                f"وبعد، يشرفني أن أطلب منكم إبداء رأيكم في مشروع بناء {keyword} فوق القطعة "
                "رقم 112 بتجزئة الوحدة، وتجدون رفقته التصاميم وشهادة الملكية.",
                "وتفضلوا بقبول فائق التقدير والاحترام.",
            ),
            signature=("رئيس المجلس الجماعي",),
        )
    )


def scan_arabic(sender: str, subject: str, keyword: str, path: Path) -> Path:
    """The Arabic letter as a scanner hands it over: one greyscale PNG page, a little askew."""
    [page] = _scanned(arabic_letter_pdf(sender, subject, keyword))
    page.save(path, "PNG", dpi=(SCAN_DPI, SCAN_DPI), optimize=True)
    return path
