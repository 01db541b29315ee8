"""The real type of a file, from its first bytes; the name and the declared type are never trusted.

Only PDF, JPEG, PNG and TIFF go further. Everything else is refused with a reason, in particular
what a browser or a PostScript interpreter would execute: SVG, HTML, JavaScript, PostScript/EPS.
A PDF must start with `%PDF-`: readers accept a header anywhere in the first kilobyte, which is how
PostScript/PDF polyglots are made, so a file that starts with anything else is not taken as a PDF.
"""

from __future__ import annotations

from pathlib import Path

from ocr.errors import OcrError

PDF = "application/pdf"
JPEG = "image/jpeg"
PNG = "image/png"
TIFF = "image/tiff"
ACCEPTED_TYPES: frozenset[str] = frozenset({PDF, JPEG, PNG, TIFF})

HEAD_BYTES = 1024

# (media type, what a secretary reads in the refusal)
_DESCRIPTIONS: dict[str, str] = {
    PDF: "un document PDF",
    JPEG: "une image JPEG",
    PNG: "une image PNG",
    TIFF: "une image TIFF",
    "application/postscript": "un fichier PostScript ou EPS",
    "image/svg+xml": "une image SVG (qui peut contenir du code)",
    "text/html": "une page HTML",
    "text/javascript": "du code JavaScript",
    "application/xml": "un fichier XML",
    "image/gif": "une image GIF",
    "image/bmp": "une image BMP",
    "image/webp": "une image WebP",
    "application/zip": "une archive ZIP ou un document bureautique",
    "application/x-ole-storage": "un ancien document Microsoft Office",
    "application/rtf": "un document RTF",
    "text/plain": "du texte brut",
    "application/octet-stream": "un fichier de type inconnu",
}

_JS_STARTS = (
    b"function",
    b"var ",
    b"let ",
    b"const ",
    b"import ",
    b"export ",
    b"(function",
    b"!function",
    b"window.",
    b"document.",
    b"'use strict'",
    b'"use strict"',
    b"//",
    b"/*",
)


def sniff(head: bytes) -> str:
    """The media type the first bytes of a file announce, accepted or not."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    # EPS with a binary preview header, then plain PostScript (%!PS-Adobe, or a bare %!).
    if head.startswith((b"\xc5\xd0\xd3\xc6", b"%!")):
        return "application/postscript"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"BM"):
        return "image/bmp"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"PK\x03\x04"):
        return "application/zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    text = _text_start(head)
    if text is not None:
        lowered = text.lower()
        if b"<svg" in lowered:
            return "image/svg+xml"
        if lowered.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script")) or (
            b"<html" in lowered or b"<script" in lowered
        ):
            return "text/html"
        if lowered.startswith(b"<?xml") or lowered.startswith(b"<"):
            return "application/xml"
        if lowered.startswith(_JS_STARTS):
            return "text/javascript"
        if b"%pdf-" in lowered or b"%!ps" in lowered:
            # A header hidden after other bytes: a polyglot, never handed to a PDF reader.
            return "application/octet-stream"
        return "text/plain"
    return "application/octet-stream"


def _text_start(head: bytes) -> bytes | None:
    """The head without BOM and leading blanks if it reads as text, else None."""
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if not head:
        return None
    if b"\x00" in head:
        return None
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the head is still text.
        if exc.start < len(head) - 4:
            return None
    return head.lstrip()


def describe(media_type: str) -> str:
    """The French words for a media type, as used in refusals."""
    return _DESCRIPTIONS.get(media_type, _DESCRIPTIONS["application/octet-stream"])


def detect_media_type(path: Path) -> str:
    """The accepted media type of `path`; OcrError `unsupported-type` for anything else."""
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    media_type = sniff(head)
    if media_type in ACCEPTED_TYPES:
        return media_type
    reason = (
        f"Ce fichier n'est pas accepté : son contenu est {describe(media_type)}. "
        "Seuls les documents PDF et les images JPEG, PNG ou TIFF sont acceptés."
    )
    suffix = path.suffix.lower()
    claimed = {".pdf": PDF, ".jpg": JPEG, ".jpeg": JPEG, ".png": PNG, ".tif": TIFF, ".tiff": TIFF}
    if suffix in claimed:
        reason += f" Son extension ({suffix}) ne correspond pas à son contenu."
    raise OcrError("unsupported-type", reason)
