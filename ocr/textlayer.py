"""When a PDF page's own text layer can stand in for OCR.

A page's text layer (as `pdftotext` reads it back) is trusted, and the page is not OCR'd, only if
all of these hold:

1. **No Arabic script and no bidi control character.** Arabic read back from a PDF comes out with
   fragmented words, bidi embedding controls and, for many producers, presentation forms in visual
   order: 35–96 % character error rate in our earlier measurements, and even Tesseract's own layer
   reads back with bidi controls and about 11 % errors against 0.2 % for the text it was made
   from. An Arabic page is always OCR'd and the recognised text is what gets indexed.
2. **At least 50 letters or digits.** Less is what a scanner or a stamping tool adds on top of a
   scanned image (a page number, "Reçu le …", a Bates number): trusting it would index the stamp
   and lose the letter underneath. A page that truly holds a few words costs one OCR pass, no more.
3. **It reads as text.** At least 90 % of the characters are letters, digits, blanks or ordinary
   punctuation, with no replacement or private-use characters beyond 1 %, and at least 60 % of the
   words have a vowel. Fonts without a Unicode map give glyph-id soup that fails these.

A page whose layer is not trusted is rasterised and OCR'd like a scan.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MIN_CHARACTERS = 50
MIN_ORDINARY_SHARE = 0.90
MAX_BROKEN_SHARE = 0.01
MIN_VOWEL_WORD_SHARE = 0.60

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_WORDS = re.compile(r"[^\W\d_]{2,}")
_VOWELS = frozenset("aeiouyàâäéèêëîïôöùûüÿæœ")
_PUNCTUATION = frozenset(".,;:!?'\"’‘«»“”()[]{}-–—/\\%&@#*+=<>°§€$£_|~^`…•·")


@dataclass(frozen=True)
class TextLayerVerdict:
    trusted: bool
    why: str


def assess_text_layer(text: str) -> TextLayerVerdict:
    """Whether `text`, read back from one PDF page, may be indexed instead of OCR (see module doc)."""
    if _ARABIC.search(text) or _BIDI_CONTROLS.search(text):
        return TextLayerVerdict(False, "arabic")
    visible = [char for char in text if not char.isspace()]
    alnum = sum(1 for char in visible if char.isalnum())
    if alnum < MIN_CHARACTERS:
        return TextLayerVerdict(False, "too-short")
    ordinary = alnum + sum(1 for char in visible if char in _PUNCTUATION)
    if ordinary < MIN_ORDINARY_SHARE * len(visible):
        return TextLayerVerdict(False, "not-text")
    broken = sum(1 for char in visible if char == "\ufffd" or unicodedata.category(char) == "Co")
    if broken > MAX_BROKEN_SHARE * len(visible):
        return TextLayerVerdict(False, "not-text")
    words = _WORDS.findall(text.lower())
    if words:
        with_vowel = sum(1 for word in words if _VOWELS.intersection(word))
        if with_vowel < MIN_VOWEL_WORD_SHARE * len(words):
            return TextLayerVerdict(False, "not-text")
    return TextLayerVerdict(True, "ok")


def clean_text_layer(text: str) -> str:
    """Page text as indexed: no form feed, no trailing blanks on lines, no blank run over one line."""
    lines = [line.rstrip() for line in text.replace("\f", "").splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    return "\n".join(out).strip("\n")
