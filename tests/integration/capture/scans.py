"""Realistic scans for the scanner tests: printed PDFs rendered to grey images and back.

A page goes through what a scanner does to paper: rendered at 150 DPI, turned a little, a grey
speckle added, and stored as a JPEG inside a PDF, one image per page, as scanners write them.
"""

from __future__ import annotations

import io
import random
from collections.abc import Sequence
from pathlib import Path

from pdf2image import convert_from_bytes
from PIL import Image, ImageFilter
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas

DPI = 150


def letter_pdf(title: str, lines: Sequence[str] = ()) -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4)
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(3 * cm, 26 * cm, title)
    pdf.setFont("Helvetica", 12)
    y = 24.5 * cm
    for line in lines or ("Monsieur le Directeur,", "j'ai l'honneur de vous adresser ma demande."):
        pdf.drawString(3 * cm, y, line)
        y -= 0.7 * cm
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def scanned(pdf_bytes: bytes, seed: int = 0, angle: float = 0.8) -> list[Image.Image]:
    """Every page of a printed PDF as a scanner would see it."""
    rng = random.Random(seed)
    pages = []
    for page in convert_from_bytes(pdf_bytes, dpi=DPI, grayscale=True):
        turned = page.rotate(rng.uniform(-angle, angle), fillcolor=255, resample=Image.BICUBIC)
        noisy = turned.point(lambda v: v if rng.random() > 0.002 else 160)
        pages.append(noisy.filter(ImageFilter.GaussianBlur(0.4)).convert("L"))
    return pages


def scan_pdf(path: Path, pages: Sequence[Image.Image]) -> Path:
    first, *rest = pages
    first.save(path, "PDF", save_all=True, append_images=rest, resolution=DPI, quality=80)
    return path


def letter_pages(title: str, count: int = 1, seed: int = 0) -> list[Image.Image]:
    pages = []
    for number in range(count):
        pdf = letter_pdf(f"{title} — page {number + 1}")
        pages.extend(scanned(pdf, seed=seed + number))
    return pages
