"""Read a scanned or digital document into text per page, a searchable PDF and a thumbnail.

`process(path, settings, workdir)` runs these steps, each refusing the document with an
`OcrError` (a French reason and a code) rather than risking the caller:

1. size: the file's size against `max_file_mb`, in the caller (a `stat`, nothing read);
2. type: the first bytes (`ocr.detect`); PDF, JPEG, PNG and TIFF only;
3. inspection, in a limited child: encryption, page count, page size and embedded image sizes
   against the limits, before any page is rasterised; which pages use fonts (only those can
   have a text layer) and which are a scanner's page (one JPEG or CCITT G4 image filling it);
4. pages, each in its own limited child, up to `workers` at a time: a trusted PDF text layer
   (`ocr.textlayer`) is taken as it is; a scanner's page (in a PDF, or a JPEG file) is handed
   to Tesseract as the image it is (decoded by Pillow if Tesseract cannot); otherwise the page is rasterised in grayscale (pdftoppm, one
   page; Pillow for images); each is straightened (`ocr.skew`) and read by Tesseract
   writing text, hOCR (for confidence and orientation) and the page's PDF in one recognition
   pass. Orientation detection (OSD, `--psm 1`) runs inside that pass only for a page whose
   lines run up and down, or whose reading without it is poor (upside down): it costs a third
   of a reading. A page found turned is turned upright and read again, and a straightened page
   read with low confidence is also read as it was, and a page read as Arabic with a set that
   also holds other languages is read again with its Arabic alone (`ocr.pages.read_page` says
   why);
5. the searchable PDF, in a limited child: for a PDF, each OCR'd page of the original gets
   Tesseract's invisible text as an overlay (the original's images, vectors and colours stay, and
   no page image is embedded twice); for an image, Tesseract's pages are joined; pages are turned
   upright with /Rotate. pikepdf (qpdf) does the joining: maintained, typed, and the library
   OCRmyPDF itself relies on for the same job.

The original file is only ever read. Outputs go to `workdir`: `searchable.pdf` and
`thumbnail.jpg` (give each document its own work directory). Nothing here touches a database.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ocr import detect, limits, pages
from ocr.errors import OcrError
from ocr.results import OcrResult, PageText, TextSource

__all__ = ["OcrResult", "OcrSettings", "PageText", "TextSource", "installed_languages", "process"]

_LANGUAGES = re.compile(r"^[A-Za-z_]{3,}(\+[A-Za-z_]{3,})*$")
SEARCHABLE_PDF = "searchable.pdf"
THUMBNAIL = "thumbnail.jpg"


@dataclass(frozen=True)
class OcrSettings:
    """Limits and choices for one call of `process`; the `[ocr]` section of the configuration.

    Field names are the configuration keys; `OcrSettings.from_mapping` builds one from that section.
    """

    languages: str = "fra+ara"
    """Tesseract language set, "+"-separated; per document with `dataclasses.replace`."""
    dpi: int = 300
    """Resolution PDF pages are rasterised at, and assumed for images that state none."""
    max_file_mb: int = 100
    max_pages: int = 500
    max_pixels_per_page: int = 90_000_000
    """Largest raster per page (≈ Pillow's own bomb limit; an A4 page at 300 dpi is 8.7 M). A PDF
    page larger than this at `dpi` is rasterised at a lower resolution, down to 72 dpi."""
    page_time_limit_s: float = 120.0
    page_memory_limit_mb: int = 1024
    """Address-space limit of the child reading one page, Tesseract included."""
    thumbnail_px: int = 400
    """Long side of the first-page thumbnail."""
    workers: int = 0
    """Pages read at the same time, one child process each; 0: one per CPU available."""

    def __post_init__(self) -> None:
        if not _LANGUAGES.match(self.languages):
            raise ValueError(f"ocr.languages: not a Tesseract language set: {self.languages!r}")
        positive = {
            "dpi": self.dpi,
            "max_file_mb": self.max_file_mb,
            "max_pages": self.max_pages,
            "max_pixels_per_page": self.max_pixels_per_page,
            "page_time_limit_s": self.page_time_limit_s,
            "page_memory_limit_mb": self.page_memory_limit_mb,
            "thumbnail_px": self.thumbnail_px,
        }
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"ocr.{name} must be positive, not {value!r}")
        if not pages.MIN_DPI <= self.dpi <= 1200:
            raise ValueError(f"ocr.dpi must be between {pages.MIN_DPI} and 1200")
        if self.workers < 0:
            raise ValueError("ocr.workers must be 0 (one per CPU) or more")

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def effective_workers(self) -> int:
        if self.workers:
            return self.workers
        return len(os.sched_getaffinity(0)) or 1

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> OcrSettings:
        """Settings from a configuration section; unknown keys are an error, not ignored."""
        known = {field.name: field for field in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown [ocr] settings: {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for name, value in values.items():
            converted[name] = _convert(name, value, type(getattr(cls, name)))
        return cls(**converted)


def _convert(name: str, value: object, kind: type) -> Any:
    """A TOML value, or an environment variable's string, as the field's type."""
    if isinstance(value, bool):
        raise ValueError(f"ocr.{name}: {value!r} is not a {kind.__name__}")
    if kind is str:
        if not isinstance(value, str):
            raise ValueError(f"ocr.{name}: {value!r} is not a string")
        return value
    if isinstance(value, str):
        try:
            value = float(value) if kind is float else int(value)
        except ValueError as exc:
            raise ValueError(f"ocr.{name}: {value!r} is not a {kind.__name__}") from exc
    if kind is int and isinstance(value, int):
        return value
    if kind is float and isinstance(value, (int, float)):
        return float(value)
    raise ValueError(f"ocr.{name}: {value!r} is not a {kind.__name__}")


@functools.lru_cache(maxsize=1)
def installed_languages() -> frozenset[str]:
    """Languages the installed Tesseract can read (`tesseract --list-langs`)."""
    completed = subprocess.run(
        ["tesseract", "--list-langs"],  # noqa: S607 (found on PATH like pdftoppm)
        capture_output=True,
        text=True,
        check=True,
    )
    lines = completed.stdout.splitlines()[1:]  # the first line is a heading
    return frozenset(line.strip() for line in lines if line.strip())


def _check_languages(languages: str) -> None:
    missing = sorted(set(languages.split("+")) - installed_languages())
    if missing:
        # An installation fault, not the document's: not an OcrError.
        raise RuntimeError(f"Tesseract has no language data for: {', '.join(missing)}")


def _check_size(path: Path, settings: OcrSettings) -> None:
    size = path.stat().st_size
    if size == 0:
        raise OcrError("malformed", "Le fichier est vide.")
    if size > settings.max_file_bytes:
        raise OcrError(
            "too-large",
            f"Le fichier est trop volumineux ({size / 1048576:.1f} Mo) : "
            f"la limite est de {settings.max_file_mb} Mo.",
        )


def process(path: Path, settings: OcrSettings, workdir: Path) -> OcrResult:
    """Text per page, searchable PDF and thumbnail of the document at `path`.

    Raises OcrError when the document is refused or cannot be read (the caller's process is never
    at risk: every decoding step runs in a limited child). Raises RuntimeError if Tesseract lacks
    one of `settings.languages`. `workdir` must be a directory of this document alone: the outputs
    are `workdir/searchable.pdf` and `workdir/thumbnail.jpg`, replaced if present.
    """
    path = Path(path)
    workdir = Path(workdir)
    _check_size(path, settings)
    media_type = detect.detect_media_type(path)
    workdir.mkdir(parents=True, exist_ok=True)
    bounds = limits.Limits(
        seconds=settings.page_time_limit_s,
        memory_mb=settings.page_memory_limit_mb,
        pixels=settings.max_pixels_per_page,
    )
    scratch = Path(tempfile.mkdtemp(prefix=".ocr-", dir=workdir))
    try:
        specs = limits.run_one(
            pages.inspect,
            pages.InspectJob(
                path.resolve(),
                media_type,
                settings.dpi,
                settings.max_pages,
                settings.max_pixels_per_page,
            ),
            bounds,
        )
        _check_languages(settings.languages)
        jobs = [
            pages.PageJob(
                path=path.resolve(),
                media_type=media_type,
                number=spec.number,
                dpi=spec.dpi,
                languages=settings.languages,
                outdir=scratch,
                thumbnail_px=settings.thumbnail_px if spec.number == 1 else 0,
                fonts=spec.fonts,
                image_dpi=spec.image_dpi,
            )
            for spec in specs
        ]
        readings = limits.run_all(
            pages.read_page,
            jobs,
            bounds,
            workers=min(settings.effective_workers, len(jobs)),
            pages=[job.number for job in jobs],
        )
        searchable = workdir / SEARCHABLE_PDF
        limits.run_one(
            pages.assemble,
            pages.AssembleJob(
                source=path.resolve(),
                media_type=media_type,
                pages=tuple(_placement(reading, media_type) for reading in readings),
                output=searchable,
            ),
            bounds,
        )
        first = readings[0].thumbnail
        if first is None:
            raise OcrError("malformed", "La première page n'a pas pu être affichée.", 1)
        thumbnail = workdir / THUMBNAIL
        os.replace(first, thumbnail)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return OcrResult(
        media_type=media_type,
        page_count=len(readings),
        pages=tuple(reading.page for reading in readings),
        searchable_pdf=searchable,
        thumbnail=thumbnail,
    )


def _placement(reading: pages.PageReading, media_type: str) -> pages.Placement:
    overlay = reading.pdf
    rotation = reading.page.rotation
    if media_type == detect.PDF:
        # A page with text of its own that we did not trust (Arabic, mostly) keeps it rather
        # than get a second, overlapping layer: a viewer searches the author's text well
        # enough, and what we index is the recognised text anyway.
        if reading.has_text_layer:
            overlay = None
    else:
        # Tesseract's page already holds the image turned upright.
        rotation = (rotation - reading.geometry.turned) % 360
    return pages.Placement(pdf=overlay, rotation=rotation, geometry=reading.geometry)
