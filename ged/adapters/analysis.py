"""French and Arabic text analysis, shared by every search backend.

One function turns text into index terms; Whoosh and tantivy both index and query with it, so a
word matches the same way whichever backend runs. A token is analysed as Arabic when it is
written in Arabic script, as French otherwise: a letter that mixes both languages matches in both.

French: lower case, elided articles (l', d', qu'…) and stop words dropped, Snowball French stem,
then accents folded (after the stem, which needs them: "éclairage" and "eclairage" meet).
Arabic: diacritics (harakat) and tatweel removed; أ إ آ ٱ → ا, ى → ي, Arabic-Indic digits → ASCII;
stop words dropped; conjunction و and article/preposition prefixes (ال وال بال كال فال لل)
stripped, then light suffix stripping (Light10, Larkey et al. 2007) rather than a root stemmer,
which would conflate مكتب, كتاب and كاتب; ة is folded into ه last.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

# Combining marks stay inside a token so a vocalised word is not split at its harakat.
TOKEN_RE = re.compile(r"[\w\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED]+")
ARABIC_LETTER_RE = re.compile(r"[\u0620-\u064A\u0671-\u06D3]")
HARAKAT_RE = re.compile(r"[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06ED\u0640]")
ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي"})
DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")

FRENCH_STOP = frozenset(
    [
        "l",
        "d",
        "j",
        "m",
        "n",
        "s",
        "t",
        "c",
        "qu",
        "jusqu",
        "lorsqu",
        "puisqu",
        "quoiqu",
        "au",
        "aux",
        "avec",
        "ce",
        "ces",
        "dans",
        "de",
        "des",
        "du",
        "elle",
        "en",
        "et",
        "eux",
        "il",
        "ils",
        "je",
        "la",
        "le",
        "les",
        "leur",
        "lui",
        "ma",
        "mais",
        "me",
        "meme",
        "mes",
        "moi",
        "mon",
        "ne",
        "nos",
        "notre",
        "nous",
        "on",
        "ou",
        "par",
        "pas",
        "pour",
        "qu",
        "que",
        "qui",
        "sa",
        "se",
        "ses",
        "son",
        "sur",
        "ta",
        "te",
        "tes",
        "toi",
        "ton",
        "tu",
        "un",
        "une",
        "vos",
        "votre",
        "vous",
        "y",
        "a",
        "est",
        "sont",
        "ete",
        "etre",
        "cette",
        "cet",
        "celui",
        "celle",
        "ceux",
        "celles",
        "dont",
        "ni",
        "si",
        "sans",
        "sous",
    ]
)
ARABIC_STOP = frozenset(
    [
        "في",
        "من",
        "الى",
        "على",
        "عن",
        "ان",
        "او",
        "ثم",
        "هذا",
        "هذه",
        "ذلك",
        "تلك",
        "التي",
        "الذي",
        "الذين",
        "اللذان",
        "هو",
        "هي",
        "هم",
        "هن",
        "انا",
        "نحن",
        "انت",
        "كان",
        "كانت",
        "قد",
        "لقد",
        "لا",
        "لم",
        "لن",
        "ما",
        "مع",
        "عند",
        "كل",
        "بعض",
        "غير",
        "بين",
        "حتى",
        "اذا",
        "اي",
        "ايضا",
        "و",
        "ب",
        "ل",
        "ك",
        "ف",
    ]
)
ARABIC_PREFIXES = ("وال", "بال", "كال", "فال", "لل", "ال")
ARABIC_SUFFIXES = ("ها", "ان", "ات", "ون", "ين", "يه", "ية", "ه", "ة", "ي")


@dataclass(frozen=True, slots=True)
class Term:
    text: str
    position: int
    start: int
    end: int


@lru_cache(maxsize=1)
def _french_stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


def fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise_arabic(word: str) -> str:
    return HARAKAT_RE.sub("", word).translate(ALEF_FORMS).translate(DIGITS)


def stem_arabic(word: str) -> str:
    """Light10: strip و, then one article/preposition prefix, then suffixes; fold ة last."""
    if word.startswith("و") and len(word) >= 4:
        word = word[1:]
    for prefix in ARABIC_PREFIXES:
        if word.startswith(prefix) and len(word) - len(prefix) >= 2:
            word = word[len(prefix) :]
            break
    for suffix in ARABIC_SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 2:
            word = word[: -len(suffix)]
    return word.replace("ة", "ه")


# Letters repeat a small vocabulary: caching the per-word analysis makes indexing and
# highlighting several times faster (the function is pure).
@lru_cache(maxsize=262_144)
def analyse_word(word: str) -> str | None:
    """The index term for one token, or None for a stop word."""
    if ARABIC_LETTER_RE.search(word):
        normal = normalise_arabic(word)
        if not normal or normal in ARABIC_STOP:
            return None
        return stem_arabic(normal)
    lowered = word.lower().translate(DIGITS)
    if fold_accents(lowered) in FRENCH_STOP:
        return None
    if lowered.isdigit():
        return lowered
    return fold_accents(_french_stemmer().stemWord(lowered))


def analyse(text: str) -> Iterator[Term]:
    """Index terms of ``text`` with their positions and character offsets (for highlights)."""
    position = 0
    for match in TOKEN_RE.finditer(text):
        term = analyse_word(match.group())
        if term:
            yield Term(term, position, match.start(), match.end())
            position += 1


def words(text: str) -> list[str]:
    """``TOKEN_RE.findall(text)``, about three times faster: a space-separated chunk made only
    of letters and digits (``str.isalnum``, a subset of ``\\w``) is one token as it stands; only
    the others (punctuation, elisions, harakat) go through the regular expression."""
    out: list[str] = []
    for chunk in text.split():
        if chunk.isalnum():
            out.append(chunk)
        else:
            out += TOKEN_RE.findall(chunk)
    return out


def terms(text: str) -> list[str]:
    """Index terms of ``text`` in order (``analyse`` without the offsets, for bulk indexing)."""
    return [term for term in map(analyse_word, words(text)) if term]


@lru_cache(maxsize=262_144)
def fold_name_word(word: str) -> str:
    return normalise_arabic(fold_accents(word.lower()))


def normalise_name(text: str) -> str:
    """Names (correspondents): lower case and folding only, no stemming."""
    return " ".join(map(fold_name_word, words(text)))
