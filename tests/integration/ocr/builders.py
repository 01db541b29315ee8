"""PDFs built for the OCR tests: a real text layer, and a scanned page."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from PIL import Image

FRENCH_LINES = (
    "Objet : convocation à la réunion du comité de pilotage",
    "Monsieur le Directeur, j'ai l'honneur de vous informer que la réunion",
    "du comité se tiendra le mardi 14 avril 2026 à dix heures, au siège",
    "de l'Agence, salle des délibérations. Ordre du jour : bilan annuel.",
)


def text_pdf(path: Path, lines: tuple[str, ...] = FRENCH_LINES) -> Path:
    """A born-digital A4 page: Helvetica text with WinAnsi encoding, as a word processor writes."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    commands = [b"BT /F1 12 Tf 16 TL 60 760 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        commands.append(b"(" + escaped.encode("cp1252") + b") Tj T*")
    commands.append(b"ET")
    page.obj.Contents = pdf.make_stream(b"\n".join(commands))
    pdf.save(path)
    return path


def scanned_pdf(path: Path, image: Image.Image, dpi: int = 300) -> Path:
    image.save(path, "PDF", resolution=dpi, quality=85)
    return path


def join_pdfs(path: Path, *parts: Path) -> Path:
    out = pikepdf.new()
    sources = [pikepdf.open(part) for part in parts]
    for source in sources:
        out.pages.extend(source.pages)
    out.save(path)
    for source in sources:
        source.close()
    return path


def page_count(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def page_rotation(path: Path, index: int = 0) -> int:
    with pikepdf.open(path) as pdf:
        return int(pdf.pages[index].obj.get("/Rotate", 0))
