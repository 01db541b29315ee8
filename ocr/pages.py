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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pytesseract
from pdf2image import convert_from_path
from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError
from PIL import Image, ImageOps

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
            for width, height in _images(_inherited(page.obj, "/Resources"), 0, seen):
                if width * height > job.max_pixels:
                    raise _too_many_pixels(number, width * height, job.max_pixels, "une image")
            specs.append(PageSpec(number, dpi))
    return tuple(specs)


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


def _rasterise_pdf_page(job: PageJob) -> Path:
    try:
        paths = convert_from_path(
            job.path,
            dpi=job.dpi,
            first_page=job.number,
            last_page=job.number,
            grayscale=True,
            output_folder=job.outdir,
            output_file=f"raster-{job.number:05d}",
            paths_only=True,
        )
    except (PDFPageCountError, PDFSyntaxError, PDFInfoNotInstalledError) as exc:
        raise _malformed(f"la page {job.number} ne peut pas être affichée") from exc
    # With paths_only, pdf2image returns file names (its annotations say images).
    first: object = paths[0] if paths else None
    if not isinstance(first, str):
        raise _malformed(f"la page {job.number} ne peut pas être affichée")
    return Path(first)


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
    images = convert_from_path(job.path, first_page=1, last_page=1, size=job.thumbnail_px)
    if not images:
        raise _malformed("la première page ne peut pas être affichée")
    return _save_thumbnail(images[0], 0, job.thumbnail_px, job.outdir / "thumbnail.jpg")


@dataclass(frozen=True)
class _Reading:
    text: str
    summary: hocr.HocrSummary
    rotation: int
    geometry: Geometry
    pdf: Path


def _recognise(
    job: PageJob, image_path: Path, base: Path, text_only: bool, orient: bool
) -> tuple[str, hocr.HocrSummary]:
    """One Tesseract pass writing text, hOCR and the page's PDF next to `base`.

    `orient`: with orientation detection (`--psm 1`); otherwise the same automatic page layout
    without it (`--psm 3`, Tesseract's default).
    """
    config = f"--psm {1 if orient else 3} --dpi {job.dpi}"
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


def _attempt(
    job: PageJob,
    raster: Image.Image,
    raster_file: Path | None,
    angle: float,
    sideways: bool,
    tag: str,
) -> _Reading:
    """Read the raster straightened by `angle`, turned upright and read again if found turned.

    Orientation detection costs a third more than the reading itself (1.07 CPU-s instead of
    0.71-0.82 on a letter), and most pages are upright: a page whose lines run across is read
    without it first, and only a reading below ORIENT_BELOW (an upside-down page reads at 20-55,
    an upright one at 83-95) is read again with it. A sideways page (`sideways`) is read with it
    at once. `raster_file` is the raster already on disk (pdftoppm's), used as is when nothing
    is turned.
    """
    is_pdf = job.media_type == detect.PDF
    base = job.outdir / f"page-{job.number:05d}-{tag}"
    image_path = job.outdir / f"page-{job.number:05d}-{tag}.pgm"
    straight = skew.deskew(raster, angle)
    if straight is raster and raster_file is not None:
        image_path = raster_file
    else:
        straight.save(image_path, "PPM")
    text, summary = _recognise(job, image_path, base, text_only=is_pdf, orient=sideways)
    if not sideways and summary.words and summary.confidence < ORIENT_BELOW:
        oriented = job.outdir / f"page-{job.number:05d}-{tag}o"
        found_text, found = _recognise(job, image_path, oriented, text_only=is_pdf, orient=True)
        if found.rotation or found.confidence > summary.confidence:
            text, summary, base = found_text, found, oriented
    rotation, read = summary.rotation, straight
    if rotation:
        read = straight.rotate(-rotation, expand=True)
        image_path = job.outdir / f"page-{job.number:05d}-{tag}-upright.pgm"
        read.save(image_path, "PPM")
        text, summary = _recognise(job, image_path, base, text_only=is_pdf, orient=False)
    geometry = Geometry(raster.size, angle, straight.size, rotation, read.size, job.dpi)
    return _Reading(text, summary, rotation, geometry, Path(f"{base}.pdf"))


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
    Upright pages with little slant, the usual case, are read once.
    """
    is_pdf = job.media_type == detect.PDF
    has_layer = False
    raster_file: Path | None = None
    if is_pdf:
        layer = _page_text_layer(job)
        has_layer = sum(1 for char in layer if char.isalnum()) >= textlayer.MIN_CHARACTERS
        if textlayer.assess_text_layer(layer).trusted:
            thumbnail = _pdf_thumbnail(job) if job.thumbnail_px else None
            page = PageText(
                job.number, textlayer.clean_text_layer(layer), 100.0, "", 0, 0.0, "text-layer"
            )
            geometry = Geometry((0, 0), 0.0, (0, 0), 0, (0, 0), job.dpi)
            return PageReading(page, None, True, geometry, thumbnail)
        raster_file = _rasterise_pdf_page(job)
        with Image.open(raster_file) as opened:
            raster = opened.convert("L")
    else:
        raster = _load_image_page(job)
    lines = skew.find_lines(raster)
    angle = lines.angle
    best = _attempt(job, raster, raster_file, angle, lines.sideways, "a")
    if angle and best.summary.confidence < RETRY_BELOW:
        as_is = _attempt(job, raster, raster_file, 0.0, lines.sideways, "b")
        if as_is.summary.confidence > best.summary.confidence:
            best = as_is
    thumbnail = None
    if job.thumbnail_px:
        # From the raster in hand (grey): a colour render would cost another pdftoppm run.
        thumbnail = _save_thumbnail(
            raster, best.rotation, job.thumbnail_px, job.outdir / "thumbnail.jpg"
        )
    for leftover in job.outdir.glob(f"*-{job.number:05d}*.pgm"):
        leftover.unlink(missing_ok=True)
    page = PageText(
        job.number,
        best.text,
        best.summary.confidence,
        job.languages,
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
