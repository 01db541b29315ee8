"""Fonts for the PDF files ged prints, and the Arabic text they draw.

DejaVu Sans has the Arabic letters, reportlab's built-in fonts do not (Debian package
fonts-dejavu-core). ReportLab draws glyphs in the order it is given and knows nothing of Arabic,
so text goes through `display_lines`: Arabic letters are shaped into their joined forms
(arabic-reshaper), lines are wrapped in logical order, then each line is reordered for display
(python-bidi).
"""

from __future__ import annotations

import functools
import re

import arabic_reshaper  # type: ignore[import-untyped]
from bidi import get_display  # type: ignore[import-untyped]
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"

# Arabic, Syriac, Thaana, NKo, Hebrew and the Arabic presentation forms.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_RTL_STRONG = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]|([A-Za-z\u00c0-\u024f])")


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


def is_rtl(text: str) -> bool:
    """True when the first strong character is right-to-left (the paragraph's direction)."""
    match = _RTL_STRONG.search(text)
    return bool(match and match.group(1) is None)


def display_lines(
    text: str, font: str, size: float, width: float, rtl_page: bool = False
) -> list[str]:
    """Wrap ``text`` to ``width`` points and return the lines in display order.

    A paragraph's direction is that of its first letter; on a right-to-left page
    (``rtl_page``) every paragraph is right to left, so that a date written with Arabic
    conventions (``6‏/12‏/2026``, with right-to-left marks) reads as it does on screen.
    """
    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        if not rtl_page and not _RTL.search(paragraph):
            lines.extend(simpleSplit(paragraph, font, size, width) or [""])
            continue
        base = "R" if rtl_page or is_rtl(paragraph) else "L"
        shaped = arabic_reshaper.reshape(paragraph)
        for line in simpleSplit(shaped, font, size, width) or [""]:
            lines.append(get_display(line, base_dir=base))
    return lines
