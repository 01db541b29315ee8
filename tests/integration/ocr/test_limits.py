"""Limits on real pages: the document fails cleanly, the caller carries on."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from ocr import OcrError, OcrSettings, process

pytestmark = pytest.mark.tesseract


def test_a_page_over_its_time_limit_fails_the_document(corpus: Path, tmp_path: Path) -> None:
    settings = OcrSettings(page_time_limit_s=1.0)
    with pytest.raises(OcrError) as failed:
        process(corpus / "linn.pdf", settings, tmp_path / "work")
    assert failed.value.code == "timeout"
    assert failed.value.page == 1
    assert "temps permis" in failed.value.reason


def _blank_png(path: Path, side: int) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    packer = zlib.compressobj(9)
    row = b"\x00" + b"\xff" * ((side + 7) // 8)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )
    return path


def test_a_page_over_its_memory_limit_fails_the_document(tmp_path: Path) -> None:
    # 144 million pixels: allowed by the pixel limit given here, but 144 MB once decoded.
    path = _blank_png(tmp_path / "affiche.png", 12_000)
    settings = OcrSettings(max_pixels_per_page=200_000_000, page_memory_limit_mb=160)
    with pytest.raises(OcrError) as failed:
        process(path, settings, tmp_path / "work")
    assert failed.value.code == "memory"
    assert failed.value.page == 1
    assert "160 Mo" in failed.value.reason
