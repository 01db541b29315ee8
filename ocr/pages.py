"""The work done inside limited child processes: inspect a document, read one page, build the PDF.

Every function here takes one frozen job and returns one frozen value, so that `ocr.limits` can
run it in a child process; none of them is meant to run in the caller's process on untrusted
input.
"""

from __future__ import annotations

import io
import math
import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeGuard

import pikepdf
import pytesseract
from pikepdf.models.image import NotExtractableError, UnsupportedImageTypeError
from PIL import ExifTags, Image, ImageOps

from ocr import detect, hocr, skew, textlayer
from ocr.errors import OcrError
from ocr.results import PageText

# Below this a page would be too coarse to read; a page needing less to fit the pixel limit is
# refused rather than read badly.
MIN_DPI = 72
# A straightened page read with less confidence than this is read as it is too (see read_page).
RETRY_BELOW = 85.0
# A page read without orientation detection with less confidence than this is read again with
# it: it may be upside down (see _attempt).
ORIENT_BELOW = 70.0
# The share of Arabic letters in a first reading's confident words above which a page is read
# again with the Arabic-script languages alone, and below whose complement (1 %) it is a Latin
# page (`script_languages`).
ARABIC_SHARE = 0.99
# Resolution assumed for an image file that does not state a plausible one.
_IMAGE_DPI_RANGE = (70, 1200)
_THUMBNAIL_QUALITY = 80
# Nesting of form XObjects followed when looking for oversized images.
_MAX_FORM_DEPTH = 8
# Document-level entries that make a viewer run something: not carried into the derived PDF.
_ACTIVE_ROOT_KEYS = ("/OpenAction", "/AA")

_BIDI_MARKS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_ENCRYPTED = (
    "Ce PDF est protégé par un mot de passe : enregistrez-le sans protection, "
    "puis déposez-le à nouveau."
)


def _malformed(detail: str = "") -> OcrError:
    reason = "Le fichier est endommagé ou illisible"
    return OcrError("malformed", f"{reason} : {detail}." if detail else f"{reason}.")


@dataclass(frozen=True)
class InspectJob:
    path: Path
    media_type: str
    dpi: int
    max_pages: int
    max_pixels: int


@dataclass(frozen=True)
class PageSpec:
    number: int
    dpi: int
    """Resolution to rasterise at: the requested one, lowered for a large page to fit the limit."""
    fonts: bool = True
    """The page uses fonts, so it may have a text layer: without any, `pdftotext` is not run."""
    image_dpi: int = 0
    """Non-zero: the page is one JPEG or CCITT G4 image filling it at about `dpi`, at this
    resolution; it is read as it is instead of being rasterised (see `scanned_image_dpi`)."""


def inspect(job: InspectJob) -> tuple[PageSpec, ...]:
    """Page count and per-page resolution, with every limit checked before any page is decoded."""
    if job.media_type == detect.PDF:
        return _inspect_pdf(job)
    return _inspect_image(job)


def _inherited(page: pikepdf.Dictionary, key: str) -> pikepdf.Object | None:
    node: pikepdf.Object | None = page
    for _ in range(32):  # a /Parent loop must not hang us
        if node is None or not isinstance(node, pikepdf.Dictionary):
            return None
        if key in node:
            return node[key]
        node = node.get("/Parent")
    return None


def _box(page: pikepdf.Dictionary) -> tuple[float, float, float, float]:
    box = _inherited(page, "/MediaBox")
    try:
        if not isinstance(box, pikepdf.Array):
            raise TypeError("no /MediaBox array")
        x0, y0, x1, y1 = (float(value) for value in box)
    except (ValueError, TypeError) as exc:
        raise _malformed("une page n'a pas de dimensions valides") from exc
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _rotate(page: pikepdf.Dictionary) -> int:
    value = _inherited(page, "/Rotate")
    try:
        degrees = int(value) if value is not None else 0
    except (TypeError, ValueError):
        degrees = 0
    return (round(degrees / 90) * 90) % 360


def _images(resources: object, depth: int, seen: set[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """(width, height) of every image XObject reachable from a resource dictionary."""
    if depth > _MAX_FORM_DEPTH or not isinstance(resources, pikepdf.Dictionary):
        return
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        return
    for key in xobjects.keys():  # noqa: SIM118 (a pikepdf Dictionary is not iterable by key)
        xobject = xobjects[key]
        if not isinstance(xobject, pikepdf.Stream):
            continue
        if xobject.is_indirect:
            if xobject.objgen in seen:
                continue
            seen.add(xobject.objgen)
        subtype = xobject.get("/Subtype")
        if subtype == pikepdf.Name.Image:
            try:
                yield int(xobject.get("/Width", 0)), int(xobject.get("/Height", 0))
            except (TypeError, ValueError):
                continue
        elif subtype == pikepdf.Name.Form:
            yield from _images(xobject.get("/Resources"), depth + 1, seen)


def _too_many_pixels(number: int, pixels: int, limit: int, what: str) -> OcrError:
    return OcrError(
        "too-many-pixels",
        f"La page {number} contient {what} trop grande pour être lue sans risque "
        f"({pixels / 1e6:.0f} millions de pixels ; la limite est de {limit / 1e6:.0f} millions).",
        number,
    )


def _too_many_pages(count: int, limit: int) -> OcrError:
    return OcrError(
        "too-many-pages",
        f"Le document compte {count} pages : la limite est de {limit} pages. "
        "Découpez-le en plusieurs documents.",
    )


def _inspect_pdf(job: InspectJob) -> tuple[PageSpec, ...]:
    try:
        pdf = pikepdf.open(job.path)
    except pikepdf.PasswordError as exc:
        raise OcrError("encrypted", _ENCRYPTED) from exc
    except pikepdf.PdfError as exc:
        raise _malformed("ce n'est pas un PDF lisible") from exc
    specs: list[PageSpec] = []
    with pdf:
        try:
            count = len(pdf.pages)
        except pikepdf.PdfError as exc:
            raise _malformed("la liste des pages est endommagée") from exc
        if count == 0:
            raise _malformed("le PDF ne contient aucune page")
        if count > job.max_pages:
            raise _too_many_pages(count, job.max_pages)
        seen: set[tuple[int, int]] = set()
        for number, page in enumerate(pdf.pages, start=1):
            x0, y0, x1, y1 = _box(page.obj)
            unit = float(page.obj.get("/UserUnit", 1) or 1)
            inches = ((x1 - x0) * unit / 72, (y1 - y0) * unit / 72)
            pixels = inches[0] * inches[1] * job.dpi * job.dpi
            dpi = job.dpi
            if pixels > job.max_pixels:
                dpi = math.floor(job.dpi * math.sqrt(job.max_pixels / pixels))
                if dpi < MIN_DPI:
                    raise _too_many_pixels(number, round(pixels), job.max_pixels, "une surface")
            resources = _inherited(page.obj, "/Resources")
            for width, height in _images(resources, 0, seen):
                if width * height > job.max_pixels:
                    raise _too_many_pixels(number, width * height, job.max_pixels, "une image")
            image_dpi = scanned_image_dpi(page, dpi)
            specs.append(PageSpec(number, dpi, _uses_fonts(resources, 0), image_dpi))
    return tuple(specs)


def _uses_fonts(resources: object, depth: int) -> bool:
    """Whether a resource dictionary, or a form it draws, names a font (text needs one)."""
    if depth > _MAX_FORM_DEPTH or not isinstance(resources, pikepdf.Dictionary):
        return depth > _MAX_FORM_DEPTH  # too deep to tell: assume text
    fonts = resources.get("/Font")
    if isinstance(fonts, pikepdf.Dictionary) and len(fonts.keys()) > 0:
        return True
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        return False
    for key in xobjects.keys():  # noqa: SIM118 (a pikepdf Dictionary is not iterable by key)
        xobject = xobjects.get(key)
        if (
            isinstance(xobject, pikepdf.Stream)
            and xobject.get("/Subtype") == pikepdf.Name.Form
            and _uses_fonts(xobject.get("/Resources"), depth + 1)
        ):
            return True
    return False


# Colour spaces of a JPEG Tesseract reads as pdftoppm would show it (CMYK JPEGs are often
# stored inverted, and a /Decode array changes what the bytes mean: those are rasterised).
_JPEG_SPACES = ("/DeviceGray", "/DeviceRGB")
# How far the image may be from filling the page, and from the resolution asked for.
_FILL_TOLERANCE = 0.01
_DPI_TOLERANCE = 0.1


def _plain_jpeg(image: object) -> TypeGuard[pikepdf.Stream]:
    if not isinstance(image, pikepdf.Stream) or image.get("/Subtype") != pikepdf.Name.Image:
        return False
    filters = image.get("/Filter")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    if filters != pikepdf.Name.DCTDecode or image.get("/BitsPerComponent") != 8:
        return False
    if any(key in image for key in ("/SMask", "/Mask", "/Decode", "/ImageMask")):
        return False
    space = image.get("/ColorSpace")
    components: object = None
    if isinstance(space, pikepdf.Array) and len(space) == 2 and space[0] == "/ICCBased":
        components = space[1].get("/N") if isinstance(space[1], pikepdf.Stream) else None
    elif isinstance(space, pikepdf.Name) and str(space) in _JPEG_SPACES:
        components = 1 if str(space) == "/DeviceGray" else 3
    else:
        return False
    # /DecodeParms overrides what the JPEG says of its colours: poppler obeys it, Pillow and
    # Tesseract would not (francais.pdf's grey JPEG, with one, decodes otherwise here).
    return components in (1, 3) and "/DecodeParms" not in image


def _plain_g4(image: object) -> TypeGuard[pikepdf.Stream]:
    """A black-and-white scan in CCITT group 4, as pikepdf writes it out into a TIFF as it is."""
    if not isinstance(image, pikepdf.Stream) or image.get("/Subtype") != pikepdf.Name.Image:
        return False
    filters, parms = image.get("/Filter"), image.get("/DecodeParms")
    if isinstance(filters, pikepdf.Array) and len(filters) == 1:
        filters = filters[0]
    if isinstance(parms, pikepdf.Array) and len(parms) == 1:
        parms = parms[0]
    if filters != pikepdf.Name.CCITTFaxDecode or image.get("/BitsPerComponent") != 1:
        return False
    if any(key in image for key in ("/SMask", "/Mask", "/ImageMask")):
        return False
    if image.get("/ColorSpace") != pikepdf.Name.DeviceGray or not isinstance(
        parms, pikepdf.Dictionary
    ):
        return False
    decode = image.get("/Decode")
    try:
        if decode is not None and [float(value) for value in decode] != [0.0, 1.0]:
            return False
        group4 = int(parms.get("/K", 0)) < 0
        columns = int(parms.get("/Columns", 1728)) == int(image.Width)
    except (TypeError, ValueError):
        return False
    # Byte-aligned rows are a layout the TIFF header cannot state: rasterised.
    return group4 and columns and not parms.get("/EncodedByteAlign", False)


def _scan_image(image: object) -> str:
    """Which scan image Tesseract can be handed as it is: "jpeg", "g4", or "" for any other."""
    if _plain_jpeg(image):
        return "jpeg"
    if _plain_g4(image):
        return "g4"
    return ""


def scanned_image_dpi(page: pikepdf.Page, dpi: int) -> int:
    """The resolution of the image a scanner's page is made of, or 0 if the page is anything else.

    A scanner's PDF page is one JPEG (CCITT G4 in black and white) drawn over the whole page,
    upright, at the scan's
    resolution. Rasterising it (pdftoppm: 0.1-0.2 CPU-s a page, a fifth of the reading) only
    decodes that JPEG again: such a page, when scanned at about the resolution asked for, is
    handed to Tesseract as it is. Anything else (text, vector drawing, several images, a mask,
    a turned or partial placement, /Rotate, /UserUnit) is rasterised as before.
    """
    obj = page.obj
    if _rotate(obj) or float(obj.get("/UserUnit", 1) or 1) != 1:
        return 0
    resources = _inherited(obj, "/Resources")
    if not isinstance(resources, pikepdf.Dictionary) or _uses_fonts(resources, 0):
        return 0
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary) or len(xobjects.keys()) != 1:
        return 0
    name = next(iter(xobjects.keys()))
    image = xobjects.get(name)
    if not _scan_image(image) or not isinstance(image, pikepdf.Stream):
        return 0
    try:
        instructions = pikepdf.parse_content_stream(page)
    except pikepdf.PdfError:
        return 0
    drawn = [str(i.operator) for i in instructions if str(i.operator) not in ("q", "Q")]
    matrices = [i.operands for i in instructions if str(i.operator) == "cm"]
    painted = [i.operands for i in instructions if str(i.operator) == "Do"]
    if drawn != ["cm", "Do"] or [str(o[0]) for o in painted] != [name]:
        return 0
    try:
        a, b, c, d, e, f = (float(value) for value in matrices[0])
        width, height = int(image.Width), int(image.Height)
    except (TypeError, ValueError):
        return 0
    x0, y0, x1, y1 = _box(obj)
    box_w, box_h = x1 - x0, y1 - y0
    if b or c or box_w <= 0 or box_h <= 0 or width <= 0 or height <= 0:
        return 0
    fills = (
        abs(a - box_w) <= _FILL_TOLERANCE * box_w
        and abs(d - box_h) <= _FILL_TOLERANCE * box_h
        and abs(e - x0) <= _FILL_TOLERANCE * box_w
        and abs(f - y0) <= _FILL_TOLERANCE * box_h
    )
    dpi_x, dpi_y = width * 72 / box_w, height * 72 / box_h
    if not fills or abs(dpi_x - dpi_y) > _DPI_TOLERANCE * dpi_y:
        return 0
    if abs(dpi_x - dpi) > _DPI_TOLERANCE * dpi:
        return 0  # rasterised at `dpi` as before: reading at another resolution reads otherwise
    return round(dpi_x)


def _image_dpi(image: Image.Image, default: int) -> int:
    value = image.info.get("dpi")
    try:
        dpi = round(float(value[0])) if value else 0
    except (TypeError, ValueError, IndexError):
        dpi = 0
    low, high = _IMAGE_DPI_RANGE
    return dpi if low <= dpi <= high else default


def _inspect_image(job: InspectJob) -> tuple[PageSpec, ...]:
    try:
        image = Image.open(job.path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise OcrError(
            "too-many-pixels",
            "L'image est trop grande pour être lue sans risque "
            f"(la limite est de {job.max_pixels / 1e6:.0f} millions de pixels).",
            1,
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise _malformed("l'image ne peut pas être décodée") from exc
    specs: list[PageSpec] = []
    with image:
        count = getattr(image, "n_frames", 1)
        if count > job.max_pages:
            raise _too_many_pages(count, job.max_pages)
        for number in range(1, count + 1):
            try:
                image.seek(number - 1)
            except (EOFError, OSError, ValueError) as exc:
                raise _malformed(f"la page {number} ne peut pas être décodée") from exc
            width, height = image.size
            if width * height > job.max_pixels:
                raise _too_many_pixels(number, width * height, job.max_pixels, "une image")
            if width == 0 or height == 0:
                raise _malformed(f"la page {number} est vide")
            specs.append(PageSpec(number, _image_dpi(image, job.dpi)))
    return tuple(specs)


@dataclass(frozen=True)
class PageJob:
    path: Path
    media_type: str
    number: int
    dpi: int
    languages: str
    outdir: Path
    thumbnail_px: int
    """0: no thumbnail; otherwise this page (the first) also gets one."""
    fonts: bool = True
    image_dpi: int = 0
    """See `PageSpec`."""


@dataclass(frozen=True)
class Geometry:
    """How the image Tesseract read relates to the page as rasterised."""

    raster_size: tuple[int, int]
    """Pixel size of the page as rasterised (the PDF page's MediaBox turned by its /Rotate)."""
    skew: float
    """Counter-clockwise degrees the raster was turned to straighten it."""
    deskewed_size: tuple[int, int]
    turned: int
    """Clockwise degrees the straightened image was then turned upright (0, 90, 180, 270)."""
    read_size: tuple[int, int]
    """Pixel size of the image Tesseract read last."""
    dpi: int


@dataclass(frozen=True)
class PageReading:
    page: PageText
    pdf: Path | None
    """Tesseract's PDF of the page: text only for a PDF page, image and text for an image file;
    None for a page whose text layer was trusted."""
    has_text_layer: bool
    """The original PDF page carries text of its own (trusted or not)."""
    geometry: Geometry
    thumbnail: Path | None


def _page_text_layer(job: PageJob) -> str:
    completed = subprocess.run(  # noqa: S603 (fixed program, our own arguments)
        [
            *("pdftotext", "-f", str(job.number), "-l", str(job.number), "-enc", "UTF-8"),
            *("-q", str(job.path), "-"),
        ],
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0:
        return ""
    return completed.stdout.decode("utf-8", "replace")


def _pdftoppm(job: PageJob, path: Path, *options: str) -> Path:
    """One page rendered by pdftoppm into `path` (.pgm with `-gray`, .ppm otherwise).

    pdftoppm itself, not pdf2image: pdf2image starts `pdfinfo` and `pdftoppm -v` before every
    page it renders, two programs a page for what the inspection already knows.
    """
    number = str(job.number)
    completed = subprocess.run(  # noqa: S603 (fixed program, our own arguments)
        [
            *("pdftoppm", "-f", number, "-l", number, "-singlefile", *options),
            *(str(job.path), str(path.with_suffix(""))),
        ],
        capture_output=True,
        check=False,
    )
    if completed.returncode != 0 or not path.is_file():
        raise _malformed(f"la page {job.number} ne peut pas être affichée")
    return path


def _rasterise_pdf_page(job: PageJob) -> Path:
    path = job.outdir / f"raster-{job.number:05d}.pgm"
    return _pdftoppm(job, path, "-r", str(job.dpi), "-gray")


@dataclass
class _Raster:
    """The page image: decoded in full only when it must be turned, straightened or re-saved."""

    size: tuple[int, int]
    dpi: int
    file: Path | None
    """A file Tesseract reads as it is while nothing is turned (pdftoppm's PGM, a scan's JPEG or
    TIFF G4)."""
    load: Callable[[], Image.Image]
    preview: Image.Image
    """The page in grey, at least `_PREVIEW_PX` on its short side: enough to find the lines
    and make the thumbnail."""
    _full: Image.Image | None = field(default=None, repr=False)
    encoded: bool = False
    """`file` is the scan's own image (JPEG, TIFF G4) handed to Tesseract as it came (see
    `_attempt` when Tesseract cannot decode it)."""

    def image(self) -> Image.Image:
        if self._full is None:
            self._full = self.load()
        return self._full


# find_lines works on about 700 pixels and the thumbnail is 400: a JPEG decoded at a half or a
# quarter of its size (libjpeg's scaled decoding, a fraction of the work) is enough for both.
_PREVIEW_PX = 700


def _open_grey(path: Path) -> Image.Image:
    with Image.open(path) as opened:
        return opened.convert("L")


def _jpeg_raster(path: Path, dpi: int, size: tuple[int, int]) -> _Raster | None:
    """A JPEG Tesseract can read as it is: one frame, grey or RGB, no EXIF turn."""
    with Image.open(path) as opened:
        if (
            opened.format != "JPEG"
            or opened.size != size
            or opened.mode not in ("L", "RGB")
            or getattr(opened, "n_frames", 1) != 1
            or opened.getexif().get(ExifTags.Base.Orientation, 1) != 1
        ):
            return None
        opened.draft("L", (_PREVIEW_PX, _PREVIEW_PX))
        preview = opened.convert("L")
    return _Raster(size, dpi, path, lambda: _open_grey(path), preview, encoded=True)


def _g4_raster(path: Path, dpi: int, size: tuple[int, int]) -> _Raster | None:
    """A TIFF G4 Tesseract reads as it is; decoded here too (0.02 CPU-s) for the lines and the
    thumbnail, where pdftoppm took 0.15-0.2 CPU-s to render the page."""
    with Image.open(path) as opened:
        if opened.format != "TIFF" or opened.size != size or opened.mode != "1":
            return None
        grey = opened.convert("L")
    return _Raster(size, dpi, path, lambda: grey, grey, grey, encoded=True)


def _embedded_scan(job: PageJob) -> _Raster | None:
    """The scanned page's own image (`scanned_image_dpi`), written out for Tesseract: a JPEG as
    it is, CCITT G4 data inside a TIFF header (pikepdf)."""
    with pikepdf.open(job.path) as pdf:
        page = pdf.pages[job.number - 1]
        resources = _inherited(page.obj, "/Resources")
        if not isinstance(resources, pikepdf.Dictionary):
            return None
        xobjects = resources.get("/XObject")
        if not isinstance(xobjects, pikepdf.Dictionary) or len(xobjects.keys()) != 1:
            return None
        image = xobjects.get(next(iter(xobjects.keys())))
        kind = _scan_image(image)
        if not kind or not isinstance(image, pikepdf.Stream):
            return None
        size = (int(image.Width), int(image.Height))
        prefix = job.outdir / f"raster-{job.number:05d}"
        if kind == "jpeg":
            path = prefix.with_suffix(".jpg")
            path.write_bytes(image.read_raw_bytes())
        else:
            try:
                path = Path(pikepdf.PdfImage(image).extract_to(fileprefix=str(prefix)))
            except (pikepdf.PdfError, UnsupportedImageTypeError, NotExtractableError):
                return None
    try:
        if kind == "jpeg":
            return _jpeg_raster(path, job.image_dpi, size)
        return _g4_raster(path, job.image_dpi, size)
    except (OSError, SyntaxError, ValueError):
        return None  # an image Pillow cannot read: pdftoppm may still show the page


def _pdf_raster(job: PageJob) -> _Raster:
    if job.image_dpi:
        found = _embedded_scan(job)
        if found is not None:
            return found
    path = _rasterise_pdf_page(job)
    image = _open_grey(path)
    return _Raster(image.size, job.dpi, path, lambda: image, image, image)


def _image_raster(job: PageJob) -> _Raster:
    if job.media_type == detect.JPEG:
        with Image.open(job.path) as opened:
            size = opened.size
        found = _jpeg_raster(job.path, job.dpi, size)
        if found is not None:
            return found
    image = _load_image_page(job)
    return _Raster(image.size, job.dpi, None, lambda: image, image, image)


def _load_image_page(job: PageJob) -> Image.Image:
    with Image.open(job.path) as image:
        image.seek(job.number - 1)
        # Camera pictures are stored sideways with an EXIF note saying so.
        upright = ImageOps.exif_transpose(image) if job.number == 1 else image
        return upright.convert("L")


def _save_thumbnail(image: Image.Image, rotation: int, size: int, path: Path) -> Path:
    small = image.copy()
    small.thumbnail((size, size))
    if rotation:
        small = small.rotate(-rotation, expand=True)
    small.convert("RGB").save(path, "JPEG", quality=_THUMBNAIL_QUALITY, optimize=True)
    return path


def _pdf_thumbnail(job: PageJob) -> Path:
    """A colour thumbnail of a page that was not rasterised (its text layer was trusted)."""
    size = str(job.thumbnail_px)
    rendered = _pdftoppm(job, job.outdir / f"preview-{job.number:05d}.ppm", "-scale-to", size)
    with Image.open(rendered) as image:
        return _save_thumbnail(image, 0, job.thumbnail_px, job.outdir / "thumbnail.jpg")


@dataclass(frozen=True)
class _Reading:
    text: str
    summary: hocr.HocrSummary
    rotation: int
    geometry: Geometry
    pdf: Path
    image: Path
    """The image Tesseract read (hOCR's boxes are in its pixels)."""


def _recognise(
    job: PageJob, image_path: Path, base: Path, dpi: int, text_only: bool, orient: bool
) -> tuple[str, hocr.HocrSummary]:
    """One Tesseract pass writing text, hOCR and the page's PDF next to `base`.

    `orient`: with orientation detection (`--psm 1`); otherwise the same automatic page layout
    without it (`--psm 3`, Tesseract's default).
    """
    config = f"--psm {1 if orient else 3} --dpi {dpi}"
    if text_only:
        config += " -c textonly_pdf=1"
    try:
        pytesseract.pytesseract.run_tesseract(
            str(image_path), str(base), extension="txt hocr pdf", lang=job.languages, config=config
        )
    except pytesseract.TesseractError as exc:
        if exc.status < 0 or "alloc" in str(exc.message):
            raise MemoryError from exc
        raise _malformed(f"la page {job.number} n'a pas pu être lue") from exc
    text = Path(f"{base}.txt").read_text(encoding="utf-8", errors="replace")
    # Tesseract brackets Latin runs inside Arabic lines with LRM/RLM marks: invisible, and they
    # split words for a search index. The text is in logical order without them.
    text = _BIDI_MARKS.sub("", text)
    summary = hocr.summarise(Path(f"{base}.hocr").read_text(encoding="utf-8", errors="replace"))
    return textlayer.clean_text_layer(text), summary


def _attempt(job: PageJob, raster: _Raster, angle: float, sideways: bool, tag: str) -> _Reading:
    """`_read_raster`, from the decoded pixels when Tesseract cannot decode the scan's JPEG.

    Tesseract decodes a JPEG with its own image library (Leptonica, on the system's libjpeg),
    which reads fewer kinds than Pillow's: a lossless JPEG (SOF3), for one, is refused by
    libjpeg-turbo before 3.0 and shown blank by pdftoppm. Such a page is decoded by Pillow, as
    a page to be straightened is, and read from that; later readings of the page start from
    there too.
    """
    try:
        return _read_raster(job, raster, angle, sideways, tag)
    except OcrError as refused:
        if raster.file is None or not raster.encoded:
            raise
        try:
            raster.image()
        except (OSError, SyntaxError, ValueError):
            raise refused from None
        raster.file = None
        return _read_raster(job, raster, angle, sideways, tag)


def _read_raster(job: PageJob, raster: _Raster, angle: float, sideways: bool, tag: str) -> _Reading:
    """Read the raster straightened by `angle`, turned upright and read again if found turned.

    Orientation detection costs a third more than the reading itself (1.07 CPU-s instead of
    0.71-0.82 on a letter), and most pages are upright: a page whose lines run across is read
    without it first, and only a reading below ORIENT_BELOW (an upside-down page reads at 20-55,
    an upright one at 83-95) is read again with it. A sideways page (`sideways`) is read with it
    at once. `raster.file` (pdftoppm's PGM, the scan's JPEG or G4) is read as it is when
    nothing is turned.
    """
    is_pdf = job.media_type == detect.PDF
    base = job.outdir / f"page-{job.number:05d}-{tag}"
    image_path = job.outdir / f"page-{job.number:05d}-{tag}.pgm"
    straight: Image.Image | None = None
    if angle or raster.file is None:
        straight = skew.deskew(raster.image(), angle)
        straight.save(image_path, "PPM")
    else:
        image_path = raster.file
    straight_size = straight.size if straight is not None else raster.size
    text, summary = _recognise(job, image_path, base, raster.dpi, is_pdf, orient=sideways)
    if not sideways and summary.words and summary.confidence < ORIENT_BELOW:
        oriented = job.outdir / f"page-{job.number:05d}-{tag}o"
        found_text, found = _recognise(job, image_path, oriented, raster.dpi, is_pdf, orient=True)
        if found.rotation or found.confidence > summary.confidence:
            text, summary, base = found_text, found, oriented
    rotation, read_size = summary.rotation, straight_size
    if rotation:
        read = (straight if straight is not None else raster.image()).rotate(-rotation, expand=True)
        read_size = read.size
        image_path = job.outdir / f"page-{job.number:05d}-{tag}-upright.pgm"
        read.save(image_path, "PPM")
        text, summary = _recognise(job, image_path, base, raster.dpi, is_pdf, orient=False)
    geometry = Geometry(raster.size, angle, straight_size, rotation, read_size, raster.dpi)
    return _Reading(text, summary, rotation, geometry, Path(f"{base}.pdf"), image_path)


def script_languages(languages: str, summary: hocr.HocrSummary) -> str:
    """The part of `languages` a page read with all of them is read again with, or "".

    With French beside it, Tesseract reads an Arabic page worse than with Arabic alone: it takes
    Arabic letter groups for Latin words ("ALUesu" and the like, 2-7 % of the letters it writes
    on generated Arabic letters read with `fra+ara`). On 24 generated Arabic letters (seeds
    200-223), `ara` alone read 3.95 % character errors against 7.62 % with `fra+ara` (better on
    20 pages, worse on none); `ara+fra` (Arabic first) read as badly as `fra+ara`.
    But `ara` alone loses the French words an Arabic letter quotes (a name, a reference). Those
    are read with confidence, the guessed ones are not (`hocr.CONFIDENT_WORD`): a page is taken
    for Arabic when at least ARABIC_SHARE of the letters of its confident words are Arabic.

    The other way round, Arabic's model sometimes wins a word of a Latin page and writes digits
    for it ("du Saïss." as "011 5."); hOCR says which model wrote each word
    (`HocrSummary.unlettered_arabic`). A page with no more than 1 - ARABIC_SHARE Arabic letters
    and such a word is a candidate for a reading without the Arabic-script languages
    (`_latin_letters_under` settles it). A French letter under an Arabic letterhead keeps the
    whole set.

    "" when the page is neither, or when the set holds only one script.
    """
    names = languages.split("+")
    arabic = [name for name in names if name in hocr.ARABIC_SCRIPT]
    latin = [name for name in names if name not in hocr.ARABIC_SCRIPT]
    if not arabic or not latin:
        return ""
    if summary.arabic_share >= ARABIC_SHARE:
        return "+".join(arabic)
    if summary.arabic_share <= 1 - ARABIC_SHARE and summary.unlettered_arabic:
        return "+".join(latin)
    return ""


# Room around each word given to `_latin_letters_under`, in pixels of the page, and what counts
# as letters read there: two together (a speck or a stroke reads as one, "a", "E").
_WORD_MARGIN = 6
# A table of figures may have hundreds of such words: the first ones tell as well.
_WORDS_CHECKED = 32
_LATIN_WORD = re.compile(r"[^\W\d_]{2}")


def _latin_letters_under(job: PageJob, reading: _Reading, languages: str) -> bool:
    """Whether the Latin `languages` read letters where Arabic's model wrote digits.

    Arabic's model also wins real numbers and punctuation on Latin pages ("10", "»"; three of
    the benchmark's five corpus pages have such words), and reading a dense page again costs as
    much as the first reading without Arabic (1.4-2.4 CPU-s there). Only the boxes of those
    words are read, stacked in one small image (one short Tesseract run): letters there mean
    words were misread, and the page is read again; the same digits mean it was not. On 24
    generated French letters (seeds 200-223) the whole-page reading again was better on the 4
    pages with such words (1.29 % → 0.16 % on three of them) and never worse; the benchmark's
    corpus pages' such words are specks and digits, read as one letter at most.
    """
    with Image.open(reading.image) as scan:
        page = scan.convert("L")
        crops = [
            page.crop(
                (
                    max(0, left - _WORD_MARGIN),
                    max(0, top - _WORD_MARGIN),
                    min(page.width, right + _WORD_MARGIN),
                    min(page.height, bottom + _WORD_MARGIN),
                )
            )
            for left, top, right, bottom in reading.summary.unlettered_arabic[:_WORDS_CHECKED]
        ]
    crops = [crop for crop in crops if crop.width > 1 and crop.height > 1]
    if not crops:
        return False
    gap = max(crop.height for crop in crops)
    strip = Image.new(
        "L",
        (
            max(crop.width for crop in crops) + 2 * gap,
            sum(crop.height + gap for crop in crops) + gap,
        ),
        255,
    )
    y = gap
    for crop in crops:
        strip.paste(crop, (gap, y))
        y += crop.height + gap
    path = job.outdir / f"page-{job.number:05d}-words.pgm"
    strip.save(path, "PPM")
    try:
        text = pytesseract.image_to_string(
            str(path), lang=languages, config=f"--psm 6 --dpi {reading.geometry.dpi}"
        )
    except pytesseract.TesseractError:
        return False
    return _LATIN_WORD.search(text) is not None


def _arabic(languages: str) -> bool:
    return bool(languages) and all(name in hocr.ARABIC_SCRIPT for name in languages.split("+"))


def read_page(job: PageJob) -> PageReading:
    """Text of one page: its trusted text layer, or OCR after straightening.

    - Tesseract's `--psm 1` finds a sideways or upside-down page and reads it, but reads it worse
      than upright (Arabic letter turned 90° or 180°: 2.1 % character errors instead of 0.2 %);
      a page found turned is turned upright and read again. It is only asked for when needed
      (`_attempt`): the projection profiles see a sideways page, a poor reading betrays an
      upside-down one.
    - A page slanted by `skew.MIN_CORRECTION` or more is straightened first: a slanted
      two-column page is read column-crossed (skew.pdf: 40 % errors as is, 1.2 % straightened).
      But Tesseract's Arabic reads our straightened letters worse than slanted ones (9–20 %
      against 2–4 %), with a confidence that shows it (70–80 against 88): when the straightened
      reading's confidence is below RETRY_BELOW, the page is also read as it is, and the more
      confident reading is kept.
    - A page read as Arabic with a set that also holds French is read again with Arabic alone,
      a Latin page some of whose words Arabic's model misread, without Arabic
      (`script_languages`).
    Upright pages with little slant, the usual case, are read once.
    - A scanner's page (one JPEG or CCITT G4 image in a PDF, a JPEG alone) is handed to
      Tesseract as it is, and only a reduced decoding of it finds the lines and makes the
      thumbnail (`_jpeg_raster`, `_g4_raster`).
    """
    is_pdf = job.media_type == detect.PDF
    has_layer = False
    if is_pdf:
        layer = _page_text_layer(job) if job.fonts else ""
        has_layer = sum(1 for char in layer if char.isalnum()) >= textlayer.MIN_CHARACTERS
        if textlayer.assess_text_layer(layer).trusted:
            thumbnail = _pdf_thumbnail(job) if job.thumbnail_px else None
            page = PageText(
                job.number, textlayer.clean_text_layer(layer), 100.0, "", 0, 0.0, "text-layer"
            )
            geometry = Geometry((0, 0), 0.0, (0, 0), 0, (0, 0), job.dpi)
            return PageReading(page, None, True, geometry, thumbnail)
        raster = _pdf_raster(job)
    else:
        raster = _image_raster(job)
    lines = skew.find_lines(raster.preview)
    angle = lines.angle
    best = _attempt(job, raster, angle, lines.sideways, "a")
    narrower = script_languages(job.languages, best.summary)
    again_at = best.geometry.skew
    if angle and best.summary.confidence < RETRY_BELOW:
        if _arabic(narrower):
            # Read again anyway, with Arabic alone: as it is, since that is how Tesseract's
            # Arabic reads a slanted letter best (a reading as it is with the whole set first
            # was kept on every such page of the benchmark, and cost a third reading).
            again_at = 0.0
        else:
            as_is = _attempt(job, raster, 0.0, lines.sideways, "b")
            if as_is.summary.confidence > best.summary.confidence:
                best = as_is
                narrower = script_languages(job.languages, best.summary)
                again_at = 0.0
    if narrower and not _arabic(narrower) and not _latin_letters_under(job, best, narrower):
        narrower = ""
    if narrower:
        best = _attempt(replace(job, languages=narrower), raster, again_at, lines.sideways, "r")
    thumbnail = None
    if job.thumbnail_px:
        # From the raster in hand (grey): a colour render would cost another pdftoppm run.
        thumbnail = _save_thumbnail(
            raster.preview, best.rotation, job.thumbnail_px, job.outdir / "thumbnail.jpg"
        )
    for pattern in (f"*-{job.number:05d}*.pgm", f"raster-{job.number:05d}.*"):
        for leftover in job.outdir.glob(pattern):
            leftover.unlink(missing_ok=True)
    page = PageText(
        job.number,
        best.text,
        best.summary.confidence,
        narrower or job.languages,
        best.rotation,
        best.geometry.skew,
        "ocr",
    )
    return PageReading(page, best.pdf, has_layer, best.geometry, thumbnail)


@dataclass(frozen=True)
class Placement:
    """How one page of the searchable PDF is made."""

    pdf: Path | None
    """Tesseract's PDF for the page, or None to keep the original page as it is."""
    rotation: int
    """Clockwise degrees added to the page's /Rotate so that it shows upright."""
    geometry: Geometry


@dataclass(frozen=True)
class AssembleJob:
    source: Path
    media_type: str
    pages: tuple[Placement, ...]
    output: Path


Matrix = tuple[float, float, float, float, float, float]


def _multiply(first: Matrix, then: Matrix) -> Matrix:
    """The PDF matrix applying `first`, then `then` (row vectors, as in the PDF `cm` operator)."""
    a, b, c, d, e, f = first
    a2, b2, c2, d2, e2, f2 = then
    return (
        a * a2 + b * c2,
        a * b2 + b * d2,
        c * a2 + d * c2,
        c * b2 + d * d2,
        e * a2 + f * c2 + e2,
        e * b2 + f * d2 + f2,
    )


def _unturn(degrees: float, turned: tuple[float, float], before: tuple[float, float]) -> Matrix:
    """Maps an image turned counter-clockwise by `degrees` (about its centre, grown to fit)
    back onto the image it was made from; sizes in points, PDF axes (y up)."""
    if degrees % 90 == 0:
        # Exact values: no 1e-17 residue in the content stream.
        cos, sin = {0: (1.0, 0.0), 90: (0.0, 1.0), 180: (-1.0, 0.0), 270: (0.0, -1.0)}[
            int(degrees) % 360
        ]
    else:
        theta = math.radians(degrees)
        cos, sin = math.cos(theta), math.sin(theta)
    tw, th = turned
    bw, bh = before
    # Turning back is a clockwise turn: in PDF axes, a rotation by -degrees.
    return (
        cos,
        -sin,
        sin,
        cos,
        bw / 2 - (cos * tw / 2 + sin * th / 2),
        bh / 2 - (-sin * tw / 2 + cos * th / 2),
    )


def overlay_matrix(
    box: tuple[float, float, float, float], rotate: int, geometry: Geometry
) -> Matrix:
    """Maps Tesseract's text-only page (the image it read, in points) onto the original page.

    Four steps: undo the upright turn, undo the deskew (both about the centre), scale raster
    points to the page's user units (this absorbs /UserUnit and pdftoppm's rounding), then undo
    the display rotation: pdftoppm rasterises the MediaBox turned by /Rotate, and the text must
    land in the unturned user space.
    """
    to_pt = 72.0 / geometry.dpi

    def points(size: tuple[int, int]) -> tuple[float, float]:
        return size[0] * to_pt, size[1] * to_pt

    raster, deskewed, read = (
        points(geometry.raster_size),
        points(geometry.deskewed_size),
        points(geometry.read_size),
    )
    matrix = _multiply(
        _unturn(-geometry.turned, read, deskewed), _unturn(geometry.skew, deskewed, raster)
    )
    x0, y0, x1, y1 = box
    width, height = x1 - x0, y1 - y0
    shown_w, shown_h = (width, height) if rotate in (0, 180) else (height, width)
    scale: Matrix = (shown_w / raster[0], 0.0, 0.0, shown_h / raster[1], 0.0, 0.0)
    unrotate: Matrix = {
        0: (1.0, 0.0, 0.0, 1.0, x0, y0),
        90: (0.0, 1.0, -1.0, 0.0, x0 + width, y0),
        180: (-1.0, 0.0, 0.0, -1.0, x0 + width, y0 + height),
        270: (0.0, -1.0, 1.0, 0.0, x0, y0 + height),
    }[rotate]
    return _multiply(_multiply(matrix, scale), unrotate)


def _push_inherited(page: pikepdf.Dictionary) -> None:
    # Resources and boxes inherited from the page tree are copied onto the page before it gets a
    # resource of its own, which would otherwise hide the inherited ones.
    for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate"):
        if key not in page:
            value = _inherited(page, key)
            if value is not None:
                page[key] = value


def _strip_active_content(pdf: pikepdf.Pdf) -> None:
    for key in _ACTIVE_ROOT_KEYS:
        if key in pdf.Root:
            del pdf.Root[key]
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        del names["/JavaScript"]


def _set_rotation(page: pikepdf.Page, rotation: int) -> None:
    if rotation:
        page.obj.Rotate = (_rotate(page.obj) + rotation) % 360


def _open_small(path: Path) -> pikepdf.Pdf:
    # Tesseract's pages are small: read into memory so no file stays open per page.
    return pikepdf.open(io.BytesIO(path.read_bytes()))


def _overlay(pdf: pikepdf.Pdf, page: pikepdf.Page, ocr: pikepdf.Pdf, placement: Placement) -> None:
    _push_inherited(page.obj)
    form = pdf.copy_foreign(ocr.pages[0].as_form_xobject())
    matrix = overlay_matrix(_box(page.obj), _rotate(page.obj), placement.geometry)
    name = page.add_resource(form, pikepdf.Name.XObject, prefix="OCR")
    numbers = " ".join(f"{value:.6f}" for value in matrix)
    # The original content is wrapped in q/Q so that its graphics state cannot skew ours.
    page.contents_add(b"q\n", prepend=True)
    page.contents_add(f"\nQ q {numbers} cm {name} Do Q\n".encode("ascii"))


def assemble(job: AssembleJob) -> Path:
    """Writes the searchable PDF; the source file is only read."""
    partial = job.output.with_name(job.output.name + ".part")
    is_pdf = job.media_type == detect.PDF
    pdf = pikepdf.open(job.source) if is_pdf else pikepdf.new()
    # Pages copied from these are read when `pdf` is saved: they stay open until then.
    sources: list[pikepdf.Pdf] = []
    try:
        with pdf:
            for index, placement in enumerate(job.pages):
                ocr = _open_small(placement.pdf) if placement.pdf is not None else None
                if ocr is not None:
                    sources.append(ocr)
                if is_pdf:
                    page = pdf.pages[index]
                    if ocr is not None:
                        _overlay(pdf, page, ocr, placement)
                elif ocr is not None:
                    pdf.pages.append(ocr.pages[0])
                    page = pdf.pages[-1]
                else:
                    raise _malformed(f"la page {index + 1} n'a pas été lue")
                _set_rotation(page, placement.rotation)
            _strip_active_content(pdf)
            pdf.save(partial)
    finally:
        for source in sources:
            source.close()
    os.replace(partial, job.output)
    return job.output
