"""PDFs built for the OCR tests: a real text layer, and a scanned page."""

from __future__ import annotations

import struct
from pathlib import Path

import pikepdf
from PIL import Image

FRENCH_LINES = (
    "Objet : convocation à la réunion du comité de pilotage",
    "Monsieur le Directeur, j'ai l'honneur de vous informer que la réunion",
    "du comité se tiendra le mardi 14 avril 2026 à dix heures, au siège",
    "de l'Agence, salle des délibérations. Ordre du jour : bilan annuel.",
)


def text_pdf(path: Path, lines: tuple[str, ...] = FRENCH_LINES) -> Path:
    """A born-digital A4 page: Helvetica text with WinAnsi encoding, as a word processor writes."""
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(595, 842))
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    commands = [b"BT /F1 12 Tf 16 TL 60 760 Td"]
    for line in lines:
        escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        commands.append(b"(" + escaped.encode("cp1252") + b") Tj T*")
    commands.append(b"ET")
    page.obj.Contents = pdf.make_stream(b"\n".join(commands))
    pdf.save(path)
    return path


def scanned_pdf(path: Path, image: Image.Image, dpi: int = 300) -> Path:
    image.save(path, "PDF", resolution=dpi, quality=85)
    return path


def join_pdfs(path: Path, *parts: Path) -> Path:
    out = pikepdf.new()
    sources = [pikepdf.open(part) for part in parts]
    for source in sources:
        out.pages.extend(source.pages)
    out.save(path)
    for source in sources:
        source.close()
    return path


def page_count(path: Path) -> int:
    with pikepdf.open(path) as pdf:
        return len(pdf.pages)


def page_rotation(path: Path, index: int = 0) -> int:
    with pikepdf.open(path) as pdf:
        return int(pdf.pages[index].obj.get("/Rotate", 0))


def lossless_jpeg(image: Image.Image) -> bytes:
    """A grey image as a lossless JPEG (SOF3, first predictor).

    Pillow's wheels decode it (they carry libjpeg-turbo 3); Leptonica on libjpeg-turbo 2, as
    Debian 12 ships it, refuses it, and pdftoppm shows it blank.
    """
    grey = image.convert("L")
    width, height = grey.size
    pixels = grey.tobytes()
    header = bytearray(b"\xff\xd8")
    header += b"\xff\xc3" + struct.pack(">HBHHB", 11, 8, height, width, 1) + bytes([1, 0x11, 0])
    # One Huffman table: difference categories 0-8, each coded on four bits (0000 to 1000).
    lengths = bytes([0, 0, 0, 9] + [0] * 12)
    header += b"\xff\xc4" + struct.pack(">HB", 3 + 16 + 9, 0) + lengths + bytes(range(9))
    header += b"\xff\xda" + struct.pack(">HB", 8, 1) + bytes([1, 0x00, 1, 0, 0])
    data = bytearray()
    bits, count = 0, 0
    for y in range(height):
        row = y * width
        for x in range(width):
            # Predicted from the left; a row's first sample from above; the very first, 128.
            predicted = pixels[row + x - 1] if x else pixels[row - width] if y else 128
            diff = pixels[row + x] - predicted
            size = abs(diff).bit_length()
            extra = diff if diff >= 0 else diff - 1 + (1 << size)
            bits = (bits << (4 + size)) | (size << size) | (extra & ((1 << size) - 1))
            count += 4 + size
            while count >= 8:
                count -= 8
                data.append((bits >> count) & 0xFF)
                if data[-1] == 0xFF:
                    data.append(0)
            bits &= (1 << count) - 1
    if count:
        data.append(((bits << (8 - count)) | ((1 << (8 - count)) - 1)) & 0xFF)
        if data[-1] == 0xFF:
            data.append(0)
    return bytes(header + data + b"\xff\xd9")


def jpeg_pdf(path: Path, jpeg: bytes, size: tuple[int, int], dpi: int = 300) -> Path:
    """A scanner's page: the JPEG's bytes as they are, drawn over the whole page."""
    width, height = size[0] * 72 / dpi, size[1] * 72 / dpi
    pdf = pikepdf.new()
    page = pdf.add_blank_page(page_size=(width, height))
    image = pdf.make_stream(
        jpeg,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=size[0],
        Height=size[1],
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
        Filter=pikepdf.Name.DCTDecode,
    )
    page.obj.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=image))
    page.obj.Contents = pdf.make_stream(f"q {width} 0 0 {height} 0 0 cm /Im0 Do Q".encode())
    pdf.save(path)
    return path
