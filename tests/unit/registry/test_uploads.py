"""Upload checks without a database: real type by content, size, and the name we keep."""

from __future__ import annotations

import io
import unicodedata

import pytest

from ged.domain.errors import ValidationError
from ged.services.documents import accepted_media_type
from ged.services.uploads import MAX_NAME_LENGTH, Upload, check_upload, clean_file_name

ACCEPTED = {
    "pdf": (b"%PDF-1.7\n", "application/pdf"),
    "jpeg": (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    "png": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    "tiff_little_endian": (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
    "tiff_big_endian": (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
}
REFUSED = {
    "svg": b"<svg xmlns='http://www.w3.org/2000/svg'>",
    "xml_svg": b"<?xml version='1.0'?><svg>",
    "html": b"<!doctype html><html>",
    "javascript": b"alert(1)",
    "postscript": b"%!PS-Adobe-3.0",
    "eps": b"%!PS-Adobe-3.0 EPSF-3.0",
    "dos_eps": b"\xc5\xd0\xd3\xc6",
    "gif": b"GIF89a",
    "bmp": b"BM6\x00\x00\x00",
    "webp": b"RIFF\x00\x00\x00\x00WEBP",
    "zip": b"PK\x03\x04",
    "windows_executable": b"MZ\x90\x00",
    "elf": b"\x7fELF",
    "pdf_lowercase": b"%pdf-1.4",
    "pdf_after_whitespace": b" %PDF-1.4",
    "pdf_after_bom": b"\xef\xbb\xbf%PDF-1.4",
    "truncated_png_signature": b"\x89PNG\r\n",
    "empty": b"",
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_accepted_types_are_recognised_by_their_first_bytes(case: str) -> None:
    head, media_type = ACCEPTED[case]
    assert accepted_media_type(head, "f") == media_type


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_anything_else_is_not_recognised(case: str) -> None:
    with pytest.raises(ValidationError, match=r"^Le fichier « f » n'est pas un PDF, JPEG"):
        accepted_media_type(REFUSED[case], "f")


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("lettre.pdf", "lettre.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\boot.ini", "boot.ini"),
        ("/var/lib/ged/store/objects/ab/cd/x.pdf", "x.pdf"),
        ("dossier/", "document"),
        ("a\x00b.pdf", "ab.pdf"),
        ("tab\there.pdf", "tabhere.pdf"),
        ("bell\x07.pdf", "bell.pdf"),
        ("del\x7f.pdf", "del.pdf"),
        ("csi\x9b.pdf", "csi.pdf"),
        ("facture\u202efdp.exe", "facturefdp.exe"),
        ("isolate\u2067x\u2069.pdf", "isolatex.pdf"),
        ("zero\u200bwidth.pdf", "zerowidth.pdf"),
        ("bom\ufeff.pdf", "bom.pdf"),
        ("private\ue000.pdf", "private.pdf"),
        ("  espaces.pdf  ", "espaces.pdf"),
        ("...pdf", "pdf"),
        ("", "document"),
        ("رسالة.pdf", "رسالة.pdf"),
        ("مُرَاسَلَة.pdf", "مُرَاسَلَة.pdf"),  # harakat are marks (Mn): kept
        ("e\u0301te\u0301.pdf", "été.pdf"),  # decomposed accents are composed (NFC)
    ],
)
def test_file_name_keeps_no_directory_control_or_bidi_character(sent: str, kept: str) -> None:
    assert clean_file_name(sent) == kept


@pytest.mark.parametrize("stem", ["a", "ب", "é"])
def test_long_file_name_is_cut_to_255_characters_keeping_its_extension(stem: str) -> None:
    name = clean_file_name(stem * 400 + ".pdf")

    assert len(name) == MAX_NAME_LENGTH
    assert name.endswith(".pdf")


def test_long_name_with_a_long_extension_is_cut_without_keeping_it() -> None:
    name = clean_file_name("a" * 250 + "." + "b" * 50)

    assert len(name) == MAX_NAME_LENGTH


def test_cleaned_names_never_contain_controls_or_separators() -> None:
    every_control = (
        "".join(chr(c) for c in range(0x20)) + "\x7f\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    )
    name = clean_file_name(f"a{every_control}/b{every_control}.pdf")

    assert name == "b.pdf"
    assert all(unicodedata.category(c)[0] != "C" for c in name)


def test_check_upload_returns_the_real_type_and_the_clean_name_and_rewinds() -> None:
    stream = io.BytesIO(b"%PDF-1.4 lettre")

    file = check_upload(Upload(stream, "../scan\u202e.png"), max_bytes=100)

    assert (file.media_type, file.original_name) == ("application/pdf", "scan.png")
    assert file.stream.read() == b"%PDF-1.4 lettre"


def test_check_upload_refuses_an_empty_file_by_name() -> None:
    with pytest.raises(ValidationError, match=r"^Le fichier « vide\.pdf » est vide\.$"):
        check_upload(Upload(io.BytesIO(b""), "vide.pdf"), max_bytes=100)


def test_check_upload_refuses_a_lying_extension_and_names_the_cleaned_file() -> None:
    with pytest.raises(ValidationError) as refused:
        check_upload(Upload(io.BytesIO(b"<svg onload=alert(1)>"), "../x\u202e.pdf"), 100)

    assert refused.value.field == "files"
    assert refused.value.message.startswith("Le fichier « x.pdf » n'est pas un PDF, JPEG, PNG")


def test_check_upload_refuses_one_byte_over_the_limit_and_accepts_the_limit() -> None:
    limit = 2 * 1024 * 1024
    at_limit = b"%PDF-" + b"0" * (limit - 5)

    assert check_upload(Upload(io.BytesIO(at_limit), "a.pdf"), limit).media_type
    with pytest.raises(ValidationError, match=r"dépasse la taille maximale \(2 Mo\)"):
        check_upload(Upload(io.BytesIO(at_limit + b"0"), "a.pdf"), limit)
