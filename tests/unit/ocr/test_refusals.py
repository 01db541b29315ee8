"""Documents refused before any OCR program runs: type, size, pages, pixels, encryption."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from ocr import OcrError, OcrSettings, process


def _png_bomb(path: Path, side: int) -> Path:
    """A valid 1-bit PNG of side × side pixels that weighs a few kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + b"\x00" * ((side + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def _blank_pdf(path: Path, pages: int, size: float = 595.0) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(size, size * 1.414))
    pdf.save(path)
    return path


def _refusal(path: Path, tmp_path: Path, settings: OcrSettings | None = None) -> OcrError:
    workdir = tmp_path / "work"
    with pytest.raises(OcrError) as refused:
        process(path, settings or OcrSettings(), workdir)
    # Nothing half-made is left behind.
    assert not list(workdir.glob("*")) if workdir.exists() else True
    return refused.value


def test_an_svg_named_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "courrier.pdf"
    path.write_text('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    error = _refusal(path, tmp_path)
    assert error.code == "unsupported-type"
    assert "SVG" in error.reason


def test_html_named_png_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_text("<html><body onload='alert(1)'></body></html>")
    assert _refusal(path, tmp_path).code == "unsupported-type"


def test_postscript_named_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%!PS-Adobe-3.0\n(pwned) print\nshowpage\n")
    error = _refusal(path, tmp_path)
    assert error.code == "unsupported-type"
    assert "PostScript" in error.reason


def test_an_empty_file_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "vide.pdf"
    path.write_bytes(b"")
    error = _refusal(path, tmp_path)
    assert (error.code, error.reason) == ("malformed", "Le fichier est vide.")


def test_a_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "gros.pdf"
    path.write_bytes(b"%PDF-1.4\n" + b"0" * (2 * 1024 * 1024))
    error = _refusal(path, tmp_path, OcrSettings(max_file_mb=1))
    assert error.code == "too-large"
    assert "1 Mo" in error.reason


def test_a_pixel_bomb_png_is_refused(tmp_path: Path) -> None:
    path = _png_bomb(tmp_path / "bombe.png", 40_000)
    assert path.stat().st_size < 300_000
    error = _refusal(path, tmp_path)
    assert error.code == "too-many-pixels"
    assert "trop grande" in error.reason


def test_an_image_under_pillows_limit_but_over_ours_is_refused(tmp_path: Path) -> None:
    path = _png_bomb(tmp_path / "grande.png", 4_000)
    error = _refusal(path, tmp_path, OcrSettings(max_pixels_per_page=10_000_000))
    assert error.code == "too-many-pixels"
    assert error.page == 1


def test_a_tiff_with_too_many_pages_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lot.tif"
    frames = [Image.new("L", (60, 80), 255) for _ in range(3)]
    frames[0].save(path, save_all=True, append_images=frames[1:])
    error = _refusal(path, tmp_path, OcrSettings(max_pages=2))
    assert error.code == "too-many-pages"
    assert "3 pages" in error.reason


def test_a_pdf_with_too_many_pages_is_refused(tmp_path: Path) -> None:
    error = _refusal(_blank_pdf(tmp_path / "lot.pdf", 3), tmp_path, OcrSettings(max_pages=2))
    assert error.code == "too-many-pages"


def test_a_pdf_page_too_large_to_rasterise_is_refused(tmp_path: Path) -> None:
    error = _refusal(_blank_pdf(tmp_path / "affiche.pdf", 1, size=10_000.0), tmp_path)
    assert error.code == "too-many-pixels"
    assert error.page == 1


def test_a_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "secret.pdf"
    pdf = pikepdf.new()
    pdf.add_blank_page()
    pdf.save(path, encryption=pikepdf.Encryption(user="lecture", owner="proprietaire"))
    error = _refusal(path, tmp_path)
    assert error.code == "encrypted"
    assert "mot de passe" in error.reason


def test_a_truncated_pdf_is_malformed(tmp_path: Path) -> None:
    path = tmp_path / "coupe.pdf"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R")
    error = _refusal(path, tmp_path)
    assert error.code == "malformed"
    assert "endommagé" in error.reason
