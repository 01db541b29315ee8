"""Fonts for the PDF files ged prints: DejaVu Sans has the Arabic letters, reportlab's built-in
fonts do not (Debian package fonts-dejavu-core)."""

from __future__ import annotations

import functools

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"


@functools.cache
def arabic_fonts_available() -> bool:
    """Register DejaVu Sans with reportlab once; False when it is not installed."""
    try:
        pdfmetrics.registerFont(TTFont(FONT, "DejaVuSans.ttf"))
        pdfmetrics.registerFont(TTFont(FONT_BOLD, "DejaVuSans-Bold.ttf"))
    except TTFError:
        return False
    return True


def require_arabic_fonts() -> None:
    if not arabic_fonts_available():  # pragma: no cover - a broken installation
        raise RuntimeError(
            "The DejaVu Sans font is missing (Debian package fonts-dejavu-core): "
            "it is needed to print Arabic in PDF files."
        )
