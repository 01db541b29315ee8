"""Character error rate: how far recognised text is from a known reference."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# Tesseract writes typographic quotes and dashes where a letter's author typed plain ones; the
# difference changes neither reading nor search, so it is not counted as an error.
_EQUIVALENTS = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-", "–": "-"})


def normalise(text: str) -> str:
    """Text compared by `character_error_rate`: NFKC, plain quotes and dashes, one space per gap."""
    text = unicodedata.normalize("NFKC", text).translate(_EQUIVALENTS)
    # Tatweel only stretches Arabic words on the page.
    text = text.replace("\u0640", "")
    return _SPACES.sub(" ", text).strip()


def levenshtein(a: str, b: str) -> int:
    """Edit distance (insertions, deletions, substitutions) between two strings.

    Myers' bit-vector algorithm on Python integers: one pass over the longer string with
    whole-column bit operations, so two 5,000-character pages compare in milliseconds.
    """
    if len(a) < len(b):
        a, b = b, a
    m = len(b)
    if m == 0:
        return len(a)
    peq: dict[str, int] = {}
    for i, char in enumerate(b):
        peq[char] = peq.get(char, 0) | (1 << i)
    mask = (1 << m) - 1
    last = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for char in a:
        eq = peq.get(char, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & last:
            score += 1
        if mh & last:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


def character_error_rate(reference: str, hypothesis: str) -> float:
    """Edits needed to turn `hypothesis` into `reference`, per reference character (0.0 is perfect).

    Both texts are normalised first (`normalise`), so line breaks and runs of spaces do not count.
    Can exceed 1.0 when the hypothesis is much longer than the reference.
    """
    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(ref, hyp) / len(ref)
