"""What the pipeline needs from Tesseract's hOCR: word confidences and the page's orientation.

Tesseract with `--psm 1` runs its orientation and script detection (OSD) inside the recognition
pass and reads a sideways or upside-down page correctly; hOCR is where it says what it found:
each line of a turned block carries `textangle 90|180|270` (counter-clockwise). The input is our
own Tesseract's output, parsed with regular expressions over its fixed layout.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass

_TOKENS = re.compile(
    r"<span class='(?P<cls>ocr_line|ocr_header|ocr_caption|ocr_textfloat)'[^>]*title=\"(?P<line>[^\"]*)\""
    r"|<span class='ocrx_word'[^>]*title='(?P<word>[^']*)'(?: lang='(?P<lang>[^']*)')?[^>]*>"
    r"(?P<text>.*?)</span>",
    re.DOTALL,
)
_TEXTANGLE = re.compile(r"textangle (\d+)")
_WCONF = re.compile(r"x_wconf (\d+)")
_BBOX = re.compile(r"bbox (\d+) (\d+) (\d+) (\d+)")
_TAGS = re.compile(r"<[^>]*>")
# Words read at least this sure count towards the page's script (`HocrSummary.arabic_share`):
# Latin words Tesseract guesses inside Arabic lines read at 0-75 on generated Arabic letters,
# real French words quoted in them mostly at 82-96.
CONFIDENT_WORD = 80
# Tesseract languages written in Arabic script.
ARABIC_SCRIPT = frozenset({"ara", "fas", "urd", "pus", "snd", "uig"})


@dataclass(frozen=True)
class HocrSummary:
    words: int
    confidence: float
    """Mean word confidence (0–100), each word weighted by its length; 0.0 without words."""
    rotation: int
    """Clockwise degrees that turn the page upright (0, 90, 180 or 270)."""
    arabic_share: float = 0.0
    """Share of Arabic letters among the letters of the words read with a confidence of at
    least CONFIDENT_WORD; 0.0 without any."""
    unlettered_arabic: tuple[tuple[int, int, int, int], ...] = ()
    """Boxes (left, top, right, bottom) of the words of a paragraph in another language that an Arabic-script language's model won,
    and wrote without an Arabic letter (digits, punctuation). hOCR names a word's language when
    it is not its paragraph's: in a Latin paragraph these are Latin words that model misread
    ("du Saïss." as "011 5.", at 72-78). A paragraph of digits alone (a page number) may be
    taken for Arabic as a whole: its words do not count."""


def _letters(text: str) -> tuple[int, int]:
    """(Arabic letters, other letters) in `text`."""
    arabic = other = 0
    for char in text:
        if char.isalpha():
            if unicodedata.name(char, "").startswith("ARABIC"):
                arabic += 1
            else:
                other += 1
    return arabic, other


def summarise(hocr: str) -> HocrSummary:
    """Confidence and orientation of one page of Tesseract hOCR."""
    angle = 0
    weights: Counter[int] = Counter()
    total_chars = 0
    weighted_conf = 0.0
    words = 0
    arabic = other = 0
    unlettered_arabic: list[tuple[int, int, int, int]] = []
    for match in _TOKENS.finditer(hocr):
        if match.group("cls"):
            found = _TEXTANGLE.search(match.group("line"))
            angle = int(found.group(1)) % 360 if found else 0
            continue
        text = html.unescape(_TAGS.sub("", match.group("text"))).strip()
        conf = _WCONF.search(match.group("word"))
        if not text or conf is None:
            continue
        words += 1
        confidence = min(100, int(conf.group(1)))
        total_chars += len(text)
        weighted_conf += len(text) * confidence
        found_arabic, found_other = _letters(text)
        if confidence >= CONFIDENT_WORD:
            arabic, other = arabic + found_arabic, other + found_other
        if not found_arabic and match.group("lang") in ARABIC_SCRIPT:
            box = _BBOX.search(match.group("word"))
            if box:
                left, top, right, bottom = (int(value) for value in box.groups())
                unlettered_arabic.append((left, top, right, bottom))
        weights[angle] += len(text)
    if not total_chars:
        return HocrSummary(words=0, confidence=0.0, rotation=0)
    # Text turned counter-clockwise by `textangle` is set upright by the same clockwise turn.
    rotation = weights.most_common(1)[0][0]
    rotation = rotation if rotation in (90, 180, 270) else 0
    return HocrSummary(
        words=words,
        confidence=round(weighted_conf / total_chars, 1),
        rotation=rotation,
        arabic_share=arabic / (arabic + other) if arabic + other else 0.0,
        unlettered_arabic=tuple(unlettered_arabic),
    )
