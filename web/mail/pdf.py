"""PDF documents of the registry: the acknowledgement receipt and the legal register.

Plain data in, PDF bytes out. The receipt is written in the language of the person who prints
it (Flask-Babel's, as the page), right to left in Arabic; the register stays French. Every text
goes through ``_lines`` (``ged.adapters.pdf_fonts.display_lines``): Arabic letters shaped and
put in display order. DejaVu Sans (Debian ``fonts-dejavu-core``) has the Arabic presentation
forms; ReportLab finds it in the system font folders and embeds the glyphs used.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import segno
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import cm
from reportlab.pdfgen import canvas
from reportlab.platypus import Flowable, PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from ged.adapters.pdf_fonts import FONT, FONT_BOLD, is_rtl, require_arabic_fonts
from ged.adapters.pdf_fonts import display_lines as _lines
from web.i18n import format_day
from web.i18n import is_rtl as page_is_rtl

__all__ = ["ReceiptData", "RegisterData", "is_rtl", "receipt_pdf", "register_pdf"]


@dataclass(frozen=True)
class ReceiptData:
    agency: str
    chrono: str
    registered_at: dt.datetime  # local time
    subject: str
    correspondent: str
    received_on: dt.date
    units: Sequence[str]
    letter_date: dt.date | None = None
    reference: str = ""


@dataclass(frozen=True)
class RegisterData:
    agency: str
    title: str  # e.g. "Registre du courrier arrivée"
    start: dt.date
    end: dt.date
    generated_at: dt.datetime  # local time
    columns: Sequence[tuple[str, str]]  # (key, heading)
    rows: Sequence[Mapping[str, str]]


def _fr_date(day: dt.date | None) -> str:
    return day.strftime("%d/%m/%Y") if day else "—"


class _QrCode(Flowable):
    """A QR code drawn as vector squares: sharp at any print or scan resolution."""

    def __init__(self, text: str, size: float) -> None:
        super().__init__()
        qr = segno.make(text, error="m", micro=False)
        self._rows = [[bool(module) for module in row] for row in qr.matrix_iter(border=4)]
        self.size = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        module = self.size / len(self._rows)
        self.canv.setFillColor(colors.black)
        for y, row in enumerate(self._rows):
            top = self.size - (y + 1) * module
            x = 0
            while x < len(row):
                if not row[x]:
                    x += 1
                    continue
                run = x
                while run < len(row) and row[run]:
                    run += 1
                # Runs of dark modules as one rectangle: no hairline seams between squares.
                self.canv.rect(x * module, top, (run - x) * module, module, stroke=0, fill=1)
                x = run


def _cell(
    text: str, font: str, size: float, width: float, rtl_page: bool = False
) -> tuple[str, bool]:
    return "\n".join(_lines(text, font, size, width, rtl_page)), is_rtl(text)


def _day(day: dt.date | None) -> str:
    return format_day(day) if day else "—"


def receipt_pdf(data: ReceiptData) -> bytes:
    """An A4 acknowledgement receipt for an incoming mail, with a QR code of its chrono.

    Written in the page's language; in Arabic the page is mirrored (labels on the right, the
    QR code on the left) and every line is right-aligned.
    """
    require_arabic_fonts()
    rtl = page_is_rtl()
    align = "RIGHT" if rtl else "LEFT"
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
        title=_("Accusé de réception %(chrono)s", chrono=data.chrono),
        author=data.agency,
        subject=data.chrono,
    )
    width = A4[0] - 4 * cm
    qr_size = 3.6 * cm
    identity_width = width - qr_size - 0.5 * cm
    agency, agency_rtl = _cell(data.agency, FONT_BOLD, 13, identity_width)
    office, _office_rtl = _cell(_("Bureau d'ordre"), FONT, 10, identity_width, rtl)
    identity = Table(
        [[agency], [office]],
        colWidths=[width - qr_size],
        style=TableStyle(
            [
                ("FONT", (0, 0), (0, 0), FONT_BOLD, 13, 16),
                ("FONT", (0, 1), (0, 1), FONT, 10),
                ("ALIGN", (0, 0), (0, 0), "RIGHT" if agency_rtl or rtl else "LEFT"),
                ("ALIGN", (0, 1), (0, 1), align),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    qr_column = 0 if rtl else 1
    top: list[Any] = [identity, _QrCode(data.chrono, qr_size)]
    under: list[Any] = ["", data.chrono]
    header = Table(
        [top[::-1], under[::-1]] if rtl else [top, under],
        colWidths=[qr_size, width - qr_size] if rtl else [width - qr_size, qr_size],
        style=TableStyle(
            [
                ("FONT", (qr_column, 1), (qr_column, 1), FONT_BOLD, 9),
                ("ALIGN", (qr_column, 0), (qr_column, -1), "CENTER"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )
    title = Table(
        [[_cell(_("Accusé de réception"), FONT_BOLD, 18, width, rtl)[0]]],
        colWidths=[width],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT_BOLD, 18, 22),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.8, colors.black),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 10),
            ]
        ),
    )
    label_width = 5.2 * cm
    value_width = width - label_width - 12
    registered = _(
        "%(day)s à %(time)s",
        day=format_day(data.registered_at.date()),
        time=data.registered_at.strftime("%H:%M"),
    )
    fields = [
        (_("Numéro d'ordre"), data.chrono),
        (_("Enregistré le"), registered),
        (_("Reçu le"), _day(data.received_on)),
        (_("Objet"), data.subject),
        (_("Correspondant"), data.correspondent or "—"),
        (_("Date de la lettre"), _day(data.letter_date)),
        (_("Référence de l'expéditeur"), data.reference or "—"),
        (_("Entités destinataires"), "\n".join(data.units) or "—"),
    ]
    label_column, value_column = (1, 0) if rtl else (0, 1)
    rows: list[list[Any]] = []
    style: list[tuple[Any, ...]] = [
        ("FONT", (label_column, 0), (label_column, -1), FONT_BOLD, 10, 13),
        ("FONT", (value_column, 0), (value_column, -1), FONT, 10, 13),
        ("ALIGN", (label_column, 0), (label_column, -1), align),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.grey),
        ("TOPPADDING", (0, 0), (-1, -1), 5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    for index, (label, value) in enumerate(fields):
        text, value_rtl = _cell(value, FONT, 10, value_width, rtl)
        label_text = _cell(label, FONT_BOLD, 10, label_width - 12, rtl)[0]
        rows.append([text, label_text] if rtl else [label_text, text])
        if value_rtl or rtl:
            style.append(("ALIGN", (value_column, index), (value_column, index), "RIGHT"))
    table = Table(
        rows,
        colWidths=[width - label_width, label_width] if rtl else [label_width, width - label_width],
        style=TableStyle(style),
    )
    notice = _(
        "Le présent accusé atteste la réception du courrier ci-dessus par le bureau d'ordre. "
        "Il ne préjuge pas de la suite qui lui sera donnée. Rappelez le numéro d'ordre dans "
        "toute correspondance."
    )
    note = Table(
        [["\n".join(_lines(notice, FONT, 9, width - 12, rtl))]],
        colWidths=[width],
        style=TableStyle(
            [("FONT", (0, 0), (-1, -1), FONT, 9, 12), ("ALIGN", (0, 0), (-1, -1), align)]
        ),
    )
    doc.build(
        [header, Spacer(1, 1 * cm), title, Spacer(1, 0.6 * cm), table, Spacer(1, 1 * cm), note]
    )
    return buffer.getvalue()


# --- the register -----------------------------------------------------------------------------

_REGISTER_FONT_SIZE = 7.5
_REGISTER_LEADING = 9.5
_PADDING = 3
# Relative widths of the register's columns, by key; unknown keys get 1.
_WIDTHS = {
    "chrono": 2.7,
    "date": 1.9,
    "letter_date": 1.9,
    "correspondent": 4.0,
    "subject": 6.5,
    "reference": 2.3,
    "type": 2.4,
    "units": 2.0,
    "status": 1.8,
    "due_on": 1.8,
}
_DATE_KEYS = {"date", "letter_date", "due_on"}


def _numbered_canvas(footer_left: str, page_width: float) -> type[canvas.Canvas]:
    """A canvas that knows the page count when it writes each footer ("Page 3 / 12")."""

    class NumberedCanvas(canvas.Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._saved_pages.append(dict(self.__dict__))
            # ReportLab's own recipe: keep the page, start a fresh one, draw footers at save.
            self._startPage()  # type: ignore[attr-defined]

        def save(self) -> None:
            total = len(self._saved_pages)
            for state in self._saved_pages:
                self.__dict__.update(state)
                self._footer(total)
                super().showPage()
            super().save()

        def _footer(self, total: int) -> None:
            self.setFont(FONT, 7.5)
            self.setFillColor(colors.grey)
            self.drawString(1.2 * cm, 0.7 * cm, footer_left)
            self.drawRightString(
                page_width - 1.2 * cm, 0.7 * cm, f"Page {self.getPageNumber()} / {total}"
            )

    return NumberedCanvas


def _iso_to_fr(value: str) -> str:
    try:
        return dt.date.fromisoformat(value).strftime("%d/%m/%Y")
    except ValueError:
        return value


def register_pdf(data: RegisterData) -> bytes:
    """The legal register: landscape A4, the heading row on every page, "Page n / N".

    Rows are wrapped here and laid out into pages here (one table per page), so the cost grows
    with the number of rows, not with its square as ReportLab's repeated table splitting does.
    """
    require_arabic_fonts()
    pagesize = landscape(A4)
    margin = 1.2 * cm
    buffer = io.BytesIO()
    period = f"du {_fr_date(data.start)} au {_fr_date(data.end)}"
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=margin,
        rightMargin=margin,
        topMargin=margin,
        bottomMargin=1.4 * cm,
        title=f"{data.title} {period}",
        author=data.agency,
    )
    width = pagesize[0] - 2 * margin
    weights = [_WIDTHS.get(key, 1.0) for key, _heading in data.columns]
    col_widths = [width * w / sum(weights) for w in weights]
    text_widths = [w - 2 * _PADDING for w in col_widths]

    heading = [
        "\n".join(_lines(h, FONT_BOLD, _REGISTER_FONT_SIZE, text_widths[i]))
        for i, (_key, h) in enumerate(data.columns)
    ]
    heading_height = max(c.count("\n") + 1 for c in heading) * _REGISTER_LEADING + 2 * _PADDING

    title_lines = [
        (f"{data.agency}", FONT_BOLD, 11),
        (f"{data.title} {period}", FONT_BOLD, 13),
        (
            f"{len(data.rows)} courrier(s) · édité le "
            f"{data.generated_at.strftime('%d/%m/%Y à %H:%M')}",
            FONT,
            8,
        ),
    ]
    title_table = Table(
        [["\n".join(_lines(text, font, size, width))] for text, font, size in title_lines],
        colWidths=[width],
        style=TableStyle(
            [
                ("FONT", (0, i), (0, i), font, size, size * 1.25)
                for i, (_t, font, size) in enumerate(title_lines)
            ]
            + [("LEFTPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, -1), (-1, -1), 8)]
        ),
    )
    _w, title_height = title_table.wrap(width, pagesize[1])

    base_style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, _REGISTER_FONT_SIZE, _REGISTER_LEADING),
        ("FONT", (0, 1), (-1, -1), FONT, _REGISTER_FONT_SIZE, _REGISTER_LEADING),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), _PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), _PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), _PADDING - 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), _PADDING + 1),
    ]
    frame_height = pagesize[1] - margin - 1.4 * cm - 12  # the frame's own padding
    story: list[Flowable] = [title_table]
    available = frame_height - title_height
    page_rows: list[list[str]] = []
    page_style: list[tuple[Any, ...]] = []
    used = heading_height

    def flush() -> None:
        table = Table(
            [heading, *page_rows],
            colWidths=col_widths,
            repeatRows=1,
            style=TableStyle(base_style + page_style),
        )
        story.append(table)

    for row in data.rows:
        cells: list[str] = []
        row_style: list[tuple[Any, ...]] = []
        height_lines = 1
        for col, (key, _h) in enumerate(data.columns):
            value = row.get(key, "")
            if key in _DATE_KEYS:
                value = _iso_to_fr(value)
            lines = _lines(value, FONT, _REGISTER_FONT_SIZE, text_widths[col])
            height_lines = max(height_lines, len(lines))
            cells.append("\n".join(lines))
            if is_rtl(value):
                row_style.append(("ALIGN", (col, -1), (col, -1), "RIGHT"))
        height = height_lines * _REGISTER_LEADING + 2 * _PADDING
        if page_rows and used + height > available:
            flush()
            story.append(PageBreak())
            page_rows, page_style, used, available = [], [], heading_height, frame_height
        page_rows.append(cells)
        index = len(page_rows)
        page_style.extend(
            (name, (start[0], index), (end[0], index), value)
            for name, start, end, value in row_style
        )
        used += height
    if page_rows or not data.rows:
        flush()
    doc.build(
        story,
        canvasmaker=_numbered_canvas(f"{data.agency} · {data.title} {period}", pagesize[0]),
    )
    return buffer.getvalue()
