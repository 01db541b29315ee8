"""Real scans (the shared OCRmyPDF corpus), generated letters, and a cache of readings.

Reading a dense page costs seconds of Tesseract; tests that look at the same reading share it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from ocr import OcrResult, OcrSettings, process

# CI checks the repository out with shared/ beside it; GED_TEST_OCR_CORPUS points elsewhere.
CORPUS = Path(
    os.environ.get("GED_TEST_OCR_CORPUS")
    or Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus" / "ocrmypdf"
)

Reader = Callable[..., OcrResult]


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(
            f"the shared OCR corpus is not at {CORPUS.resolve()} (shared/ beside the clone)"
        )
    return CORPUS


@pytest.fixture(scope="session")
def read(tmp_path_factory: pytest.TempPathFactory) -> Reader:
    """`read(path, **settings)`: process() once per file and settings, in a fresh work directory."""
    cache: dict[tuple[Path, OcrSettings], OcrResult] = {}

    def _read(path: Path, **overrides: object) -> OcrResult:
        settings = OcrSettings(**overrides)  # type: ignore[arg-type]
        key = (path.resolve(), settings)
        if key not in cache:
            workdir = tmp_path_factory.mktemp(path.stem)
            cache[key] = process(path, settings, workdir)
        return cache[key]

    return _read


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
