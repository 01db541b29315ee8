"""What the pipeline returns: plain frozen dataclasses, safe to pickle into a job queue."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

TextSource = Literal["text-layer", "ocr"]


@dataclass(frozen=True)
class PageText:
    """The text of one page and how it was obtained."""

    number: int
    """1-based page number in the original document."""
    text: str
    """Plain text, lines separated by "\\n", Arabic in logical (reading) order."""
    confidence: float
    """0–100: Tesseract's word confidence, averaged with each word weighted by its length (0.0
    for a page where nothing was recognised); 100.0 for a trusted text layer."""
    language: str
    """The Tesseract language set the page was read with (e.g. "fra+ara"); "" for a text layer."""
    rotation: int
    """Clockwise degrees (0, 90, 180, 270) that turn the page upright, as found by Tesseract's OSD;
    the searchable PDF and the thumbnail are shown turned by it."""
    skew: float
    """Degrees (counter-clockwise) the page image was turned to straighten its lines before OCR."""
    source: TextSource
    """"text-layer": the PDF's own text, trusted (see `ocr.textlayer`); "ocr": recognised."""


@dataclass(frozen=True)
class OcrResult:
    """Everything the pipeline learnt about one document."""

    media_type: str
    """The real type found in the file's bytes: application/pdf, image/jpeg, image/png, image/tiff."""
    page_count: int
    pages: tuple[PageText, ...]
    """One entry per page, in page order."""
    searchable_pdf: Path
    """A derived PDF with a text layer, written into the work directory; the original is untouched."""
    thumbnail: Path
    """A JPEG of the first page, upright, at most `OcrSettings.thumbnail_px` on its long side; in
    grey when the page was OCR'd (made from the raster already in hand), in colour otherwise."""

    @property
    def text(self) -> str:
        """All pages' text, separated by form feeds (as `pdftotext` does)."""
        return "\f".join(page.text for page in self.pages)

    @property
    def ocr_pages(self) -> int:
        """How many pages went through OCR (the others had a trusted text layer)."""
        return sum(1 for page in self.pages if page.source == "ocr")
