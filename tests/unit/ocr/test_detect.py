from __future__ import annotations

from pathlib import Path

import pytest

from ocr import OcrError, detect_media_type
from ocr.detect import sniff

ACCEPTED = [
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
    (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
    (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
]

REFUSED = [
    (
        "svg.pdf",
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
    ),
    ("bare-svg.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
    ("page.pdf", b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"),
    ("page.png", b"\xef\xbb\xbf  <html><head><title>x</title></head></html>"),
    ("code.pdf", b"function steal() { return document.cookie; }\n"),
    ("script.jpg", b"(function(){ fetch('/api'); })();"),
    ("postscript.pdf", b"%!PS-Adobe-3.0\n%%Title: x\n/Helvetica findfont\nshowpage\n"),
    ("bare-ps.pdf", b"%!\n(%PDF-1.4) pop showpage\n"),
    ("drawing.png", b"\xc5\xd0\xd3\xc6\x1e\x00\x00\x00" + b"\x00" * 24),
    ("polyglot.pdf", b"junk before the header\n%PDF-1.4\n1 0 obj\n"),
    ("photo.pdf", b"GIF89a\x01\x00\x01\x00\x00\x00\x00"),
    ("scan.tif", b"PK\x03\x04\x14\x00\x06\x00"),
    ("blob.pdf", b"\x00\x01\x02\x03\x04\x05\x06\x07"),
]


@pytest.mark.parametrize(("head", "media_type"), ACCEPTED)
def test_accepted_types_are_recognised_by_their_bytes(
    tmp_path: Path, head: bytes, media_type: str
) -> None:
    path = tmp_path / "upload.bin"
    path.write_bytes(head + b"\x00" * 64)
    assert detect_media_type(path) == media_type


@pytest.mark.parametrize(("name", "content"), REFUSED, ids=[name for name, _ in REFUSED])
def test_other_content_is_refused_whatever_its_extension(
    tmp_path: Path, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(OcrError) as refused:
        detect_media_type(path)
    assert refused.value.code == "unsupported-type"
    assert "n'est pas accepté" in refused.value.reason
    assert "PDF" in refused.value.reason


def test_a_lying_extension_is_named_in_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "courrier.pdf"
    path.write_bytes(b"%!PS-Adobe-3.0 EPSF-3.0\n")
    with pytest.raises(OcrError) as refused:
        detect_media_type(path)
    assert "PostScript" in refused.value.reason
    assert "(.pdf) ne correspond pas" in refused.value.reason


def test_postscript_is_never_taken_for_pdf() -> None:
    assert sniff(b"%!PS-Adobe-3.0\n%PDF-1.4\n") == "application/postscript"


def test_svg_is_told_apart_from_html_and_xml() -> None:
    assert sniff(b"<svg/>") == "image/svg+xml"
    assert sniff(b"<!doctype html><p>x") == "text/html"
    assert sniff(b"<?xml version='1.0'?><root/>") == "application/xml"
