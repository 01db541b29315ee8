"""The demo's letters: a French text layer that reads back, shaped Arabic, reproducible scans."""

from __future__ import annotations

import datetime as dt
import io
import random
import subprocess
from pathlib import Path

from PIL import Image

from ged.demo import corpus, letters

DAY = dt.date(2026, 10, 12)


def text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "lettre.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_a_french_letter_reads_back_as_written(tmp_path: Path) -> None:
    letter = corpus.hero(DAY, 417)
    text = " ".join(text_of(letters.render_pdf(letter.letter), tmp_path).split())
    assert "Objet : Réclamation : nuisances et travaux sans autorisation" in text
    assert "station de lavage automobile" in text
    assert "12 octobre 2026" in text
    assert "lavage" not in letter.subject


def test_an_arabic_letter_is_shaped_and_embeds_its_font(tmp_path: Path) -> None:
    rng = random.Random(3)
    arabic = next(
        item for item in (corpus.incoming(rng, DAY, n) for n in range(200)) if item.letter.arabic
    )
    pdf = letters.render_pdf(arabic.letter)
    assert b"DejaVuSans" in pdf
    text = text_of(pdf, tmp_path)
    # Joined letter forms (presentation forms), not isolated code points in logical order.
    assert any("\ufe70" <= c <= "\ufeff" for c in text)
    assert arabic.keyword in arabic.letter.text
    assert arabic.keyword not in arabic.subject


def test_every_kind_of_incoming_letter_holds_a_word_its_subject_lacks() -> None:
    rng = random.Random(1)
    for number in range(120):
        item = corpus.incoming(rng, DAY, number)
        assert item.keyword in item.letter.text, item.subject
        assert item.keyword not in item.subject, item.subject
        assert item.letter.text.count(item.subject) == 1
        assert item.unit in ("SAU", "SPU", "SJ")
        assert item.consult != item.unit


def test_a_scan_is_a_turned_greyscale_page_and_the_same_seed_gives_the_same_scan() -> None:
    pdf = letters.render_pdf(corpus.hero(DAY, 1).letter)
    first = letters.scan(pdf, seed=5)
    again = letters.scan(pdf, seed=5)
    assert first.mode == "L"
    assert first.size == (1654, 2339)  # A4 at 200 dpi
    assert first.tobytes() == again.tobytes()
    assert first.getextrema()[1] <= letters.PAPER  # grey paper, never white
    png = Image.open(io.BytesIO(letters.save_png(first)))
    assert round(png.info["dpi"][0]) == letters.SCAN_DPI
    assert letters.save_pdf(first).startswith(b"%PDF")
    assert letters.save_tiff(first)[:2] in (b"II", b"MM")
