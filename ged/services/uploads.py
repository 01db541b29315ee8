"""Checks every uploaded file before any byte is stored: real type by content, size, name."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import BinaryIO

from ged.domain.errors import ValidationError
from ged.services.documents import HEAD_BYTES, IncomingFile, accepted_media_type

MAX_NAME_LENGTH = 255
# Bidirectional controls can disguise "fdp.exe" as "exe.pdf" in a listing; control characters and
# path separators have no place in a name we show and send back.
_FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean_file_name(name: str) -> str:
    """A display name: no directories, controls or bidi overrides; kept in the DB only."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in _FORBIDDEN_CATEGORIES)
    name = name.strip().lstrip(".")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        keep = MAX_NAME_LENGTH - len(ext) - 1 if dot and len(ext) <= 10 else MAX_NAME_LENGTH
        name = (stem[:keep] + "." + ext) if dot and len(ext) <= 10 else name[:MAX_NAME_LENGTH]
    return name or "document"


@dataclass(frozen=True)
class Upload:
    stream: BinaryIO
    filename: str


def check_upload(upload: Upload, max_bytes: int) -> IncomingFile:
    """Refuse anything but PDF, JPEG, PNG and TIFF, whatever its name or declared type says."""
    name = clean_file_name(upload.filename)
    head = upload.stream.read(HEAD_BYTES)
    upload.stream.seek(0)
    if not head:
        raise ValidationError("Le fichier « %(name)s » est vide.", "files", name=name)
    # The one sniffer, ocr.detect.sniff, behind the library's own check.
    media_type = accepted_media_type(head, name)
    upload.stream.seek(0, 2)
    size = upload.stream.tell()
    upload.stream.seek(0)
    if size > max_bytes:
        raise ValidationError(
            "Le fichier « %(name)s » dépasse la taille maximale (%(megabytes)s Mo).",
            "files",
            name=name,
            megabytes=max_bytes // (1024 * 1024),
        )
    return IncomingFile(stream=upload.stream, original_name=name, media_type=media_type)
